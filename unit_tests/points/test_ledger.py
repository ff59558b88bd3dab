"""The ledger in DynamoDB (moto): arrival order, races committed at chosen moments, retries until time runs out,
and spends too large for one transaction. Competing writes are injected through `ledger.interleave`, the seam
between a change's reads and its writes; retries sleep on a fake clock: deterministic, no threads, no waiting."""

from __future__ import annotations

import itertools
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from embedded_stack.provision import Provisioned
from lambdas.points import keys, ledger, rules, store
from lambdas.points.models import NewTransaction
from lambdas.shared.aws import client
from lambdas.shared.errors import Conflict, TooManyRequests
from testkit import worked_example

NOW = datetime(2024, 1, 1, tzinfo=UTC)
LATER = datetime(2024, 1, 2, tzinfo=UTC)
WORKED_EXAMPLE = [(each["payer"], each["points"], each["timestamp"]) for each in worked_example.TRANSACTIONS]


@dataclass
class Clock:
    """A function's remaining time, spent only by sleeping: retries are deterministic and no test waits."""

    left_ms: float = 10_000
    slept: list[float] = field(default_factory=list)

    def remaining_ms(self) -> float:
        return self.left_ms

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.left_ms -= seconds * 1000

    def patience(self, draw: float = 1.0) -> ledger.Patience:
        return ledger.Patience(self.remaining_ms, sleep=self.sleep, draw=lambda: draw)


def user() -> str:
    return str(uuid.uuid4())


def add(owner: str, payer: str, points: int, timestamp: str, clock: Clock | None = None) -> None:
    new = NewTransaction.model_validate({"payer": payer, "points": points, "timestamp": timestamp})
    ledger.add(owner, new, NOW, patience=(clock or Clock()).patience())


def spent(owner: str, points: int, clock: Clock | None = None) -> list[tuple[str, int]]:
    return [(e.payer, e.points) for e in ledger.spend(owner, points, LATER, patience=(clock or Clock()).patience())]


def items(owner: str) -> list[dict[str, Any]]:
    response = client("dynamodb").query(
        TableName=store.table(),
        KeyConditionExpression="pk = :user",
        ExpressionAttributeValues={":user": {"S": owner}},
        ConsistentRead=True,
    )
    return response["Items"]


@pytest.fixture
def interleave(monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[[str, Callable[[], None]], list[str]]]:
    """`interleave(stage, competitor)`: runs `competitor` once, the first time a change reaches `stage`."""
    stages: list[str] = []

    def install(stage: str, competitor: Callable[[], None]) -> list[str]:
        pending = [competitor]

        def seam(reached: str) -> None:
            stages.append(reached)
            if reached == stage and pending:
                pending.pop()()  # the competitor's own seams fire too, but only the first arrival competes

        monkeypatch.setattr(ledger, "interleave", seam)
        return stages

    yield install


# ---------------------------------------------------------------------------------------------- order


def _negatives_after_their_payers_older_lots(order: tuple[int, ...]) -> bool:
    for position, index in enumerate(order):
        payer, points, timestamp = WORKED_EXAMPLE[index]
        if points < 0:
            earlier = set(order[:position])
            needed = {i for i, (p, n, t) in enumerate(WORKED_EXAMPLE) if p == payer and n > 0 and t < timestamp}
            if not needed <= earlier:
                return False
    return True


def test_the_worked_example_in_every_arrival_order(aws: Provisioned) -> None:
    orders = [o for o in itertools.permutations(range(5)) if _negatives_after_their_payers_older_lots(o)]
    assert len(orders) == 60
    # Every fifth of them, 12 ledgers: moto copies the whole table in every transaction, which makes each slow.
    for order in orders[::5]:
        owner = user()
        for index in order:
            add(owner, *WORKED_EXAMPLE[index])
        assert spent(owner, 5000) == [("DANNON", -100), ("UNILEVER", -200), ("MILLER COORS", -4700)], order
        assert ledger.balances(owner) == {"DANNON": 1000, "UNILEVER": 0, "MILLER COORS": 5300}, order
        store.delete_ledger(owner)  # moto copies the whole table in every transaction: keep it small


# ---------------------------------------------------------------------------------------------- races


def test_a_competing_spend_between_reads_and_write_makes_the_loser_replan(aws: Provisioned, interleave) -> None:
    owner = user()
    add(owner, "A", 100, "2020-01-01T00:00:00Z")
    add(owner, "B", 100, "2020-01-02T00:00:00Z")
    competitor: list[list[tuple[str, int]]] = []
    stages = interleave("planned", lambda: competitor.append(spent(owner, 100)))

    loser = spent(owner, 50)

    assert competitor == [[("A", -100)]]
    assert loser == [("B", -50)]  # not A's points again: it read again after its write was refused
    assert stages.count("planned") == 3  # the loser's plan, the competitor's, the loser's second plan
    assert ledger.balances(owner) == {"A": 0, "B": 50}


def test_a_competing_spend_that_leaves_too_little_makes_the_loser_409(aws: Provisioned, interleave) -> None:
    owner = user()
    add(owner, "A", 100, "2020-01-01T00:00:00Z")
    interleave("planned", lambda: spent(owner, 60))

    with pytest.raises(Conflict) as refused:
        spent(owner, 50)

    assert refused.value.errors[0].field == "body.points"
    assert ledger.balances(owner) == {"A": 40}


def test_a_competing_negative_between_reads_and_write(aws: Provisioned, interleave) -> None:
    owner = user()
    add(owner, "A", 100, "2020-01-01T00:00:00Z")
    add(owner, "B", 100, "2020-01-02T00:00:00Z")
    interleave("planned", lambda: add(owner, "A", -70, "2020-01-03T00:00:00Z"))

    assert spent(owner, 50) == [("A", -30), ("B", -20)]
    assert ledger.balances(owner) == {"A": 0, "B": 80}


def test_a_competing_negative_that_takes_the_points_makes_the_spend_409(aws: Provisioned, interleave) -> None:
    owner = user()
    add(owner, "A", 100, "2020-01-01T00:00:00Z")
    interleave("planned", lambda: add(owner, "A", -100, "2020-01-03T00:00:00Z"))

    with pytest.raises(Conflict):
        spent(owner, 1)

    assert ledger.balances(owner) == {"A": 0}


def test_a_spend_between_a_negatives_reads_and_write_makes_it_409(aws: Provisioned, interleave) -> None:
    owner = user()
    add(owner, "A", 100, "2020-01-01T00:00:00Z")
    interleave("planned", lambda: spent(owner, 80))

    with pytest.raises(Conflict) as refused:
        add(owner, "A", -50, "2020-01-03T00:00:00Z")

    assert refused.value.errors[0].field == "body.points"
    assert ledger.balances(owner) == {"A": 20}
    assert [item["kind"]["S"] for item in items(owner) if item["sk"]["S"].startswith("TX#")].count("transaction") == 1


def test_older_points_added_between_reads_and_write_are_spent_first(aws: Provisioned, interleave) -> None:
    owner = user()
    add(owner, "B", 100, "2020-01-02T00:00:00Z")
    interleave("planned", lambda: add(owner, "A", 100, "2020-01-01T00:00:00Z"))

    assert spent(owner, 10) == [("A", -10)]


def test_a_spend_that_keeps_losing_races_retries_until_it_lands(aws: Provisioned, monkeypatch) -> None:
    # Far more lost races than the 5 attempts the ledger once gave up after: each one means another change landed.
    owner = user()
    add(owner, "A", 100, "2020-01-01T00:00:00Z")
    races = list(range(20))

    def compete(stage: str) -> None:
        if races:
            races.pop()
            add(owner, "B", 1, "2030-01-01T00:00:00Z")

    monkeypatch.setattr(ledger, "interleave", compete)
    clock = Clock(left_ms=29_000)  # API Gateway's integration timeout, the embedded stack's function timeout

    assert spent(owner, 10, clock) == [("A", -10)]

    assert ledger.balances(owner) == {"A": 90, "B": 20}
    assert clock.slept == [min(ledger.MAX_DELAY, ledger.FIRST_DELAY * 2**retry) for retry in range(20)]


def test_a_ledger_that_never_settles_is_429_when_time_runs_out_with_nothing_changed(
    aws: Provisioned, monkeypatch
) -> None:
    owner = user()
    add(owner, "A", 100, "2020-01-01T00:00:00Z")
    attempts: list[str] = []
    monkeypatch.setattr(
        ledger, "interleave", lambda stage: attempts.append(stage) or add(owner, "A", 1, "2030-01-01T00:00:00Z")
    )
    clock = Clock(left_ms=10_000)

    with pytest.raises(TooManyRequests) as busy:
        spent(owner, 10, clock)

    assert busy.value.headers == {"Retry-After": "1"}
    assert ledger.balances(owner) == {"A": 100 + len(attempts)}  # the competitors' points, none of the spend's
    # It waited as long as the time allowed, and never into the margin.
    assert clock.left_ms >= ledger.MARGIN_MS
    assert clock.left_ms - ledger.MAX_DELAY * 1000 < ledger.MARGIN_MS
    assert len(attempts) == len(clock.slept) + 1


@pytest.mark.parametrize(
    ("draw", "delays"),
    [
        (1.0, [0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.64, 1.0, 1.0, 1.0]),
        (0.5, [0.005, 0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.5, 0.5, 0.5]),
        (0.0, [0.0] * 10),
    ],
)
def test_delays_grow_exponentially_to_a_cap_with_full_jitter(draw: float, delays: list[float]) -> None:
    clock = Clock(left_ms=60_000)
    patience = clock.patience(draw)

    for _ in delays:
        patience.wait()

    assert clock.slept == pytest.approx(delays)


@pytest.mark.parametrize("left_ms", [0, 999, 1009.99])
def test_no_delay_is_taken_that_would_leave_less_than_the_margin(left_ms: float) -> None:
    clock = Clock(left_ms=left_ms)

    with pytest.raises(TooManyRequests):
        clock.patience().wait()

    assert clock.slept == []


def test_patience_reads_the_functions_remaining_time() -> None:
    class Context:
        def get_remaining_time_in_millis(self) -> int:
            return 1005

    slept: list[float] = []
    patience = ledger.Patience.of(Context())  # type: ignore[arg-type]
    patience.sleep = slept.append

    patience.draw = lambda: 0.5  # 5 ms: leaves 1000 ms
    patience.wait()
    patience.draw = lambda: 1.0  # 20 ms: would leave 985 ms
    with pytest.raises(TooManyRequests):
        patience.wait()
    assert slept == [0.005]


def test_every_concurrent_spend_gets_its_real_answer(aws: Provisioned, monkeypatch) -> None:
    # 1,000 points, 14 spends of 100: each spend's read and write are split by the next spend, which runs whole
    # (and is split in turn) before the one it interrupted writes. Exactly ten land; the others are 409s.
    owner = user()
    add(owner, "A", 1000, "2020-01-01T00:00:00Z")
    waiting = list(range(13))
    answers: list[str] = []

    def one_spend() -> None:
        try:
            spent(owner, 100)
            answers.append("200")
        except Conflict:
            answers.append("409")

    def seam(stage: str) -> None:
        if stage == "planned" and waiting:
            waiting.pop()
            one_spend()

    monkeypatch.setattr(ledger, "interleave", seam)
    one_spend()

    assert Counter(answers) == {"200": 10, "409": 4}
    assert ledger.balances(owner) == {"A": 0}


# ---------------------------------------------------------------------------------------------- large spends


def many_lots(owner: str, count: int) -> None:
    """`count` lots of 2 points, one a minute, payers P0, P1, P2 in turn, written as ledger.add would leave them.

    Written directly, in batches: moto deep-copies the whole table in every transaction, so 250 additions
    through ledger.add take minutes here (not on DynamoDB, nor on the embedded stack's patched moto)."""
    lots = [
        rules.Lot(f"P{number % 3}", datetime(2020, 1, 1, tzinfo=UTC) + timedelta(minutes=number), str(uuid.uuid4()), 2)
        for number in range(count)
    ]
    balances = Counter[str]()
    for lot in lots:
        balances[lot.payer] += lot.remaining
    store.put_items(
        [
            {"pk": owner, "sk": keys.HEAD, "version": 1},
            *(keys.lot_item(owner, lot) for lot in lots),
            *(keys.balance_item(owner, payer, balance, first_seen=payer) for payer, balance in balances.items()),
        ]
    )


def test_a_250_lot_spend_is_applied_whole(aws: Provisioned, dynamodb_calls: Counter[str]) -> None:
    owner = user()
    many_lots(owner, 250)
    dynamodb_calls.clear()

    result = spent(owner, 499)

    assert result == [("P0", -167), ("P1", -166), ("P2", -166)]
    assert dynamodb_calls["TransactWriteItems"] >= 3  # more than one transaction could hold
    assert ledger.balances(owner) == {"P0": 1, "P1": 0, "P2": 0}
    keys = [item["sk"]["S"] for item in items(owner)]
    assert [key for key in keys if key.startswith("LOT#")] and len([k for k in keys if k.startswith("LOT#")]) == 1
    assert not [key for key in keys if key.startswith("SAGA#")]
    assert "saga" not in next(item for item in items(owner) if item["sk"]["S"] == "BALANCE")


@pytest.mark.parametrize("lots_consumed", [1, 3, 30])
def test_a_spend_reads_little_more_than_the_lots_it_consumes(aws: Provisioned, lots_consumed: int) -> None:
    owner = user()
    many_lots(owner, 300)
    lots_read: list[str] = []

    def count_lots(parsed: dict[str, Any], **_: Any) -> None:
        lots_read.extend(item["sk"]["S"] for item in parsed.get("Items", []) if item["sk"]["S"].startswith(keys.LOT))

    dynamodb = client("dynamodb")
    dynamodb.meta.events.register("after-call.dynamodb.Query", count_lots)
    try:
        spent(owner, 2 * lots_consumed)
    finally:
        dynamodb.meta.events.unregister("after-call.dynamodb.Query", count_lots)

    payers = 3
    assert len(lots_read) <= 2 * lots_consumed + payers


def test_a_250_lot_spend_failing_before_its_commit_changes_nothing(aws: Provisioned, monkeypatch) -> None:
    owner = user()
    many_lots(owner, 250)
    before = items(owner)

    def fail(stage: str) -> None:
        if stage == "saga-prepared":
            raise ConnectionError("the network went away")

    monkeypatch.setattr(ledger, "interleave", fail)

    with pytest.raises(ConnectionError):
        spent(owner, 499)

    assert items(owner) == before


def test_a_250_lot_spend_failing_midway_after_its_commit_is_finished_by_the_next_reader(
    aws: Provisioned, monkeypatch
) -> None:
    owner = user()
    many_lots(owner, 250)
    steps: list[str] = []

    def fail_on_second_step(stage: str) -> None:
        if stage == "saga-step":
            steps.append(stage)
            if len(steps) == 2:
                raise ConnectionError("the network went away")

    monkeypatch.setattr(ledger, "interleave", fail_on_second_step)

    assert spent(owner, 500) == [("P0", -168), ("P1", -166), ("P2", -166)]  # committed: it has happened

    head = next(item for item in items(owner) if item["sk"]["S"] == "BALANCE")
    assert "saga" in head  # half applied in the table, but no reader sees that half:
    assert ledger.balances(owner) == {"P0": 0, "P1": 0, "P2": 0}
    assert not [item for item in items(owner) if item["sk"]["S"].startswith(("SAGA#", "LOT#"))]
    page = store.history_page(owner, 1)
    assert page.items[0].kind == "spend" and page.items[0].points == -500


def test_a_spend_arriving_during_a_pending_saga_finishes_it_first(aws: Provisioned, interleave) -> None:
    owner = user()
    many_lots(owner, 120)  # more writes than a transaction holds: a saga
    add(owner, "LATE", 10, "2021-01-01T00:00:00Z")
    competitor: list[list[tuple[str, int]]] = []
    interleave("saga-committed", lambda: competitor.append(spent(owner, 5)))

    assert spent(owner, 240) == [("P0", -80), ("P1", -80), ("P2", -80)]

    assert competitor == [[("LATE", -5)]]
    assert ledger.balances(owner) == {"P0": 0, "P1": 0, "P2": 0, "LATE": 5}


def test_an_addition_during_a_pending_saga_waits_for_it(aws: Provisioned, interleave) -> None:
    owner = user()
    many_lots(owner, 120)  # more writes than a transaction holds: a saga
    interleave("saga-committed", lambda: add(owner, "EARLY", 10, "2019-01-01T00:00:00Z"))

    assert spent(owner, 240) == [("P0", -80), ("P1", -80), ("P2", -80)]

    assert ledger.balances(owner) == {"P0": 0, "P1": 0, "P2": 0, "EARLY": 10}


def test_a_competing_write_before_a_sagas_commit_makes_it_replan(aws: Provisioned, interleave) -> None:
    owner = user()
    many_lots(owner, 120)  # more writes than a transaction holds: a saga
    interleave("saga-prepared", lambda: add(owner, "EARLY", 10, "2019-01-01T00:00:00Z"))

    assert spent(owner, 240)[0] == ("EARLY", -10)
    assert ledger.balances(owner) == {"P0": 2, "P1": 4, "P2": 4, "EARLY": 0}
    assert not [item for item in items(owner) if item["sk"]["S"].startswith("SAGA#")]


def test_delete_removes_every_item_of_the_ledger_and_no_other(aws: Provisioned) -> None:
    owner, other = user(), user()
    many_lots(owner, 30)
    add(other, "A", 1, "2020-01-01T00:00:00Z")

    store.delete_ledger(owner)

    assert items(owner) == []
    assert ledger.balances(other) == {"A": 1}
