"""The points ledger's decisions: what a change reads, what it writes, when it tries again and when it answers 409
or 429. The key layout is keys.py, the DynamoDB requests store.py, the rules (oldest points first) rules.py.

Concurrency: optimistic. An addition is one transaction (lot, balance, history, the head's version bumped) and
never reads. A spend or a negative reads the head and balances, plans from the oldest lots, and writes one
transaction conditioned on the head's ``version`` being the one it read and on every lot it touches still holding
the ``remaining`` it read; balances are conditioned not to go below zero. Anything committed in between (a spend, a
negative, even an addition of older points, which would change what "oldest" means) bumps the version, the
transaction is cancelled, and the change starts again from a fresh read. A 409 (not enough points) is only
answered after a ConditionCheck transaction confirmed that the head still has the version the plan was read at: a
Query is not isolated from transactions, a transaction is.

Trying again: after exponential backoff with full jitter (`Patience`: a random delay up to 10 ms, 20 ms, 40 ms, ...
at most 1 s), for as long as the function has time left. Each lost race means another change committed, so every
spend ends in its real answer, 200 or 409; a 429 with ``Retry-After`` only when fewer than MARGIN_MS would be left
after the next delay.

Spends larger than a transaction (100 items: the head, every lot touched, every payer, the history entry) are a
roll-forward saga, still all-or-nothing: (1) the plan is cut into steps of at most 99 writes, each stored as an
item ``SAGA#<id>#<n>`` (invisible: nothing points at it yet); (2) the commit point: one conditional write sets the
head's ``saga`` (version as read, no other saga pending); (3) each step is one transaction that applies its writes
and deletes its step item, so it applies exactly once whoever runs it; (4) the head's ``saga`` is removed. Every
writer's head condition requires no pending saga, and every reader that finds one (balance, spend, negative,
addition after a refusal) first rolls it forward, so no one ever sees half a spend. A failure before (2) changes
nothing visible; after (2) the spend has happened, and the next caller on that ledger finishes it.

A test interleaves competing writes through `interleave(stage)` (a seam, no-op in production), called between a
spend's reads and its write and between saga stages.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any
from uuid import uuid4

from aws_lambda_powertools import Logger

from lambdas.points import keys, rules, store
from lambdas.points.models import NewTransaction, PayerPoints, Transaction
from lambdas.shared.errors import Conflict, TooManyRequests
from lambdas.shared.timestamps import format_timestamp

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.typing import LambdaContext

MAX_TRANSACTION_ITEMS = 100
FIRST_DELAY = 0.01  # seconds: the first retry's delay is up to this; each next one up to twice the last
MAX_DELAY = 1.0
MARGIN_MS = 1000  # left for a last read and write, and the answer, when the function's time is nearly up
DEFAULT_SECONDS = 10.0  # with no Lambda context (a script, a test): the stack's function timeout
RETRY_AFTER_SECONDS = 1
BUSY = "The points ledger is busy with other changes: try again."
logger = Logger()


def interleave(stage: str) -> None:
    """A seam for deterministic interleaving tests; nothing happens here in production."""


@dataclass
class Patience:
    """How long one request keeps trying: while more than MARGIN_MS would be left after the next delay.

    Delays are exponential with full jitter (a random time from 0 to FIRST_DELAY * 2**retries, at most MAX_DELAY),
    so that losers of one race do not meet again in the next. The clock, the sleep and the draw are injectable."""

    remaining_ms: Callable[[], float]
    sleep: Callable[[float], None] = time.sleep
    draw: Callable[[], float] = random.random
    retries: int = 0

    @classmethod
    def of(cls, context: LambdaContext | None) -> Patience:
        """The function's own remaining time, from its Lambda context."""
        return cls(context.get_remaining_time_in_millis) if context is not None else cls.for_seconds(DEFAULT_SECONDS)

    @classmethod
    def for_seconds(cls, seconds: float) -> Patience:
        deadline = time.monotonic() + seconds
        return cls(lambda: (deadline - time.monotonic()) * 1000)

    def wait(self) -> None:
        """Sleeps before the next attempt; TooManyRequests (429, Retry-After) if that would leave too little time."""
        delay = self.draw() * min(MAX_DELAY, FIRST_DELAY * 2 ** min(self.retries, 32))
        if self.remaining_ms() - delay * 1000 < MARGIN_MS:
            logger.warning("points ledger busy: out of time", retries=self.retries)
            raise TooManyRequests(BUSY, retry_after=RETRY_AFTER_SECONDS)
        self.retries += 1
        self.sleep(delay)


# ---------------------------------------------------------------------------------------------- reads


def balances(user: str, patience: Patience | None = None) -> dict[str, int]:
    return _settled(user, patience or Patience.for_seconds(DEFAULT_SECONDS)).balances


def _settled(user: str, patience: Patience) -> store.Ledger:
    """The head and every balance; a pending saga is finished first."""
    while True:
        ledger = store.read_ledger(user)
        if ledger.saga is None:
            return ledger
        _roll_forward(user, ledger.saga, ledger.saga_steps, patience)


# ---------------------------------------------------------------------------------------------- changes


def add(
    user: str,
    new: NewTransaction,
    now: datetime,
    new_id: Callable[[], str] = lambda: str(uuid4()),
    patience: Patience | None = None,
) -> Transaction:
    """Records a transaction: a positive one opens a lot, a negative one takes from its payer's oldest lots."""
    patience = patience or Patience.for_seconds(DEFAULT_SECONDS)
    transaction = Transaction(
        id=new_id(), payer=new.payer, points=new.points, timestamp=format_timestamp(new.timestamp)
    )
    history = keys.history_item(
        user, now, transaction.id, kind="transaction", payer=new.payer, points=new.points, timestamp=new.timestamp
    )
    if new.points < 0:
        _consume(user, -new.points, payer=new.payer, history=history, patience=patience)
    else:
        lot = rules.Lot(payer=new.payer, timestamp=new.timestamp, id=transaction.id, remaining=new.points)
        _open_lot(user, lot, now, history, patience)
    return transaction


def spend(
    user: str,
    points: int,
    now: datetime,
    new_id: Callable[[], str] = lambda: str(uuid4()),
    patience: Patience | None = None,
) -> list[PayerPoints]:
    """Spends `points` from the oldest lots of any payer: what each payer gave, in the order consumed."""
    spend_id = new_id()

    def history(takes: list[rules.Take]) -> dict[str, Any]:
        consumed = [{"payer": payer, "points": taken} for payer, taken in rules.by_payer(takes)]
        entry = keys.history_item(user, now, spend_id, kind="spend", payer=None, points=-points, timestamp=now)
        return entry | {"consumed": consumed}

    takes = _consume(
        user, points, payer=None, history=history, patience=patience or Patience.for_seconds(DEFAULT_SECONDS)
    )
    return [PayerPoints(payer=payer, points=taken) for payer, taken in rules.by_payer(takes)]


def _open_lot(user: str, lot: rules.Lot, now: datetime, history: dict[str, Any], patience: Patience) -> None:
    # No read, no version to match: but a pending saga must be finished before anything else changes.
    writes = [
        store.head_bump(user),
        store.put(keys.lot_item(user, lot), new=True),
        store.credit(user, lot.payer, lot.remaining, now),
        store.put(history),
    ]
    while True:
        try:
            store.transact(writes)
            return
        except store.Refused:
            patience.wait()
            _settled(user, patience)  # finishes the saga that refused the write, if that was the reason


def _consume(
    user: str,
    points: int,
    *,
    payer: str | None,
    history: dict[str, Any] | Callable[[list[rules.Take]], dict[str, Any]],
    patience: Patience,
) -> list[rules.Take]:
    """Takes `points` from the oldest lots (of `payer`, or of anyone), with `history` recording it."""
    while True:
        ledger = _settled(user, patience)
        payers = [name for name, balance in ledger.balances.items() if balance > 0 and payer in (None, name)]
        takes = None
        if sum(ledger.balances[name] for name in payers) >= points:
            takes = rules.consume(rules.oldest_first(*(store.open_lots(user, name) for name in payers)), points)
        if takes is None:
            if _unchanged(user, ledger.version):
                whose = "The payer has" if payer is not None else "The ledger has"
                raise Conflict("body.points", f"{whose} fewer points than that: nothing was changed.")
            patience.wait()  # the ledger moved since it was read: read it again
            continue
        interleave("planned")
        entry = history(takes) if callable(history) else history
        writes = [*store.consumption(user, takes), store.put(entry)]
        try:
            if len(writes) < MAX_TRANSACTION_ITEMS:
                store.transact([store.head_update(user, ledger.version), *writes])
            else:
                _run_saga(user, ledger.version, writes, patience)
        except store.Refused:
            patience.wait()
            continue
        return takes


def _unchanged(user: str, version: int) -> bool:
    """Whether the head still has `version`: a transaction, so serialised with every other one."""
    try:
        store.transact([store.head_check(user, version)])
    except store.Refused:
        return False
    return True


# ---------------------------------------------------------------------------------------------- sagas


def _run_saga(user: str, version: int, writes: list[dict[str, Any]], patience: Patience) -> None:
    saga_id = uuid4().hex
    step_size = MAX_TRANSACTION_ITEMS - 1  # each step also deletes its own item
    steps = [writes[start : start + step_size] for start in range(0, len(writes), step_size)]
    try:
        store.put_saga_steps(user, saga_id, steps)
        interleave("saga-prepared")
        store.transact([store.head_update(user, version, saga=saga_id, sagaSteps=len(steps))])  # the commit point
    except BaseException:
        # Nothing points at the steps yet: removing them leaves the ledger exactly as it was.
        store.delete_keys(user, [keys.saga_step_sk(saga_id, number) for number in range(len(steps))])
        raise
    interleave("saga-committed")
    try:
        _roll_forward(user, saga_id, len(steps), patience)
    except Exception:
        # Committed: the spend has happened whatever fails now, and the next call on this ledger finishes it.
        logger.exception("spend committed but not yet fully applied", saga=saga_id)


def _roll_forward(user: str, saga_id: str, steps: int, patience: Patience) -> None:
    """Applies every step of a committed saga not applied yet, then clears it from the head. Safe to run twice."""
    for number in range(steps):
        while (writes := store.saga_step(user, saga_id, number)) is not None:  # None: applied by whoever ran it
            interleave("saga-step")
            try:
                store.transact([*writes, store.saga_step_done(user, saga_id, number)])
                break
            except store.Refused:
                patience.wait()  # applied meanwhile, or a conflicting transaction in flight: look again
    store.clear_saga(user, saga_id)
