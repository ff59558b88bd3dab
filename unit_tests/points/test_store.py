"""The ledger in DynamoDB (moto): arrival order, races committed at chosen moments, and spends too large for
one transaction. Competing writes are injected through `store.interleave`, the store's seam between its reads and
its writes: deterministic, no threads."""

from __future__ import annotations

import itertools
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from embedded_stack.provision import Provisioned
from lambdas.points import rules, store
from lambdas.points.models import NewTransaction
from lambdas.shared.aws import client
from lambdas.shared.errors import Conflict, TooManyRequests
from lambdas.shared.timestamps import format_timestamp

NOW = datetime(2024, 1, 1, tzinfo=UTC)
LATER = datetime(2024, 1, 2, tzinfo=UTC)
WORKED_EXAMPLE = [
    ("DANNON", 300, "2020-10-31T10:00:00Z"),
    ("UNILEVER", 200, "2020-10-31T11:00:00Z"),
    ("DANNON", -200, "2020-10-31T15:00:00Z"),
    ("MILLER COORS", 10000, "2020-11-01T14:00:00Z"),
    ("DANNON", 1000, "2020-11-02T14:00:00Z"),
]


def user() -> str:
    return str(uuid.uuid4())


def add(owner: str, payer: str, points: int, timestamp: str) -> None:
    store.add(owner, NewTransaction.model_validate({"payer": payer, "points": points, "timestamp": timestamp}), NOW)


def spent(owner: str, points: int) -> list[tuple[str, int]]:
    return [(entry.payer, entry.points) for entry in store.spend(owner, points, LATER)]


def items(owner: str) -> list[dict[str, Any]]:
    response = client("dynamodb").query(
        TableName=store._table(),
        KeyConditionExpression="pk = :user",
        ExpressionAttributeValues={":user": {"S": owner}},
        ConsistentRead=True,
    )
    return response["Items"]


@pytest.fixture
def interleave(monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[[str, Callable[[], None]], list[str]]]:
    """`interleave(stage, competitor)`: runs `competitor` once, the first time the store reaches `stage`."""
    stages: list[str] = []

    def install(stage: str, competitor: Callable[[], None]) -> list[str]:
        pending = [competitor]

        def seam(reached: str) -> None:
            stages.append(reached)
            if reached == stage and pending:
                pending.pop()()  # the competitor's own seams fire too, but only the first arrival competes

        monkeypatch.setattr(store, "interleave", seam)
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
        assert store.balances(owner) == {"DANNON": 1000, "UNILEVER": 0, "MILLER COORS": 5300}, order
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
    assert store.balances(owner) == {"A": 0, "B": 50}


def test_a_competing_spend_that_leaves_too_little_makes_the_loser_409(aws: Provisioned, interleave) -> None:
    owner = user()
    add(owner, "A", 100, "2020-01-01T00:00:00Z")
    interleave("planned", lambda: spent(owner, 60))

    with pytest.raises(Conflict) as refused:
        spent(owner, 50)

    assert refused.value.errors[0].field == "body.points"
    assert store.balances(owner) == {"A": 40}


def test_a_competing_negative_between_reads_and_write(aws: Provisioned, interleave) -> None:
    owner = user()
    add(owner, "A", 100, "2020-01-01T00:00:00Z")
    add(owner, "B", 100, "2020-01-02T00:00:00Z")
    interleave("planned", lambda: add(owner, "A", -70, "2020-01-03T00:00:00Z"))

    assert spent(owner, 50) == [("A", -30), ("B", -20)]
    assert store.balances(owner) == {"A": 0, "B": 80}


def test_a_competing_negative_that_takes_the_points_makes_the_spend_409(aws: Provisioned, interleave) -> None:
    owner = user()
    add(owner, "A", 100, "2020-01-01T00:00:00Z")
    interleave("planned", lambda: add(owner, "A", -100, "2020-01-03T00:00:00Z"))

    with pytest.raises(Conflict):
        spent(owner, 1)

    assert store.balances(owner) == {"A": 0}


def test_a_spend_between_a_negatives_reads_and_write_makes_it_409(aws: Provisioned, interleave) -> None:
    owner = user()
    add(owner, "A", 100, "2020-01-01T00:00:00Z")
    interleave("planned", lambda: spent(owner, 80))

    with pytest.raises(Conflict) as refused:
        add(owner, "A", -50, "2020-01-03T00:00:00Z")

    assert refused.value.errors[0].field == "body.points"
    assert store.balances(owner) == {"A": 20}
    assert [item["kind"]["S"] for item in items(owner) if item["sk"]["S"].startswith("TX#")].count("transaction") == 1


def test_older_points_added_between_reads_and_write_are_spent_first(aws: Provisioned, interleave) -> None:
    owner = user()
    add(owner, "B", 100, "2020-01-02T00:00:00Z")
    interleave("planned", lambda: add(owner, "A", 100, "2020-01-01T00:00:00Z"))

    assert spent(owner, 10) == [("A", -10)]


def test_a_ledger_that_never_settles_is_429_with_nothing_changed(aws: Provisioned, monkeypatch) -> None:
    owner = user()
    add(owner, "A", 100, "2020-01-01T00:00:00Z")
    monkeypatch.setattr(store, "interleave", lambda stage: add(owner, "A", 1, "2030-01-01T00:00:00Z"))

    with pytest.raises(TooManyRequests):
        spent(owner, 10)

    assert store.balances(owner) == {"A": 100 + store.MAX_ATTEMPTS}


# ---------------------------------------------------------------------------------------------- large spends


def many_lots(owner: str, count: int) -> None:
    """`count` lots of 2 points, one a minute, payers P0, P1, P2 in turn, written as store.add would leave them.

    Written directly, in batches: moto deep-copies the whole table in every transaction, so 250 additions
    through store.add take minutes here (not on DynamoDB, nor on the embedded stack's patched moto)."""
    lots = [
        rules.Lot(f"P{number % 3}", datetime(2020, 1, 1, tzinfo=UTC) + timedelta(minutes=number), str(uuid.uuid4()), 2)
        for number in range(count)
    ]
    balances = Counter[str]()
    written: list[dict[str, Any]] = [{"pk": owner, "sk": store.HEAD, "version": 1}]
    for lot in lots:
        balances[lot.payer] += lot.remaining
        written.append(
            {
                "pk": owner,
                "sk": f"{store.LOT}{rules.payer_key(lot.payer)}#{lot.order}",
                "id": lot.id,
                "payer": lot.payer,
                "timestamp": format_timestamp(lot.timestamp),
                "remaining": lot.remaining,
            }
        )
    written += [
        {"pk": owner, "sk": store.BALANCE + rules.payer_key(payer), "payer": payer, "firstSeen": payer, "balance": b}
        for payer, b in balances.items()
    ]
    store._batch_write([{"PutRequest": {"Item": store._item(item)}} for item in written])


def test_a_250_lot_spend_is_applied_whole(aws: Provisioned, dynamodb_calls: Counter[str]) -> None:
    owner = user()
    many_lots(owner, 250)
    dynamodb_calls.clear()

    result = spent(owner, 499)

    assert result == [("P0", -167), ("P1", -166), ("P2", -166)]
    assert dynamodb_calls["TransactWriteItems"] >= 3  # more than one transaction could hold
    assert store.balances(owner) == {"P0": 1, "P1": 0, "P2": 0}
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
        lots_read.extend(item["sk"]["S"] for item in parsed.get("Items", []) if item["sk"]["S"].startswith(store.LOT))

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

    monkeypatch.setattr(store, "interleave", fail)

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

    monkeypatch.setattr(store, "interleave", fail_on_second_step)

    assert spent(owner, 500) == [("P0", -168), ("P1", -166), ("P2", -166)]  # committed: it has happened

    head = next(item for item in items(owner) if item["sk"]["S"] == "BALANCE")
    assert "saga" in head  # half applied in the table, but no reader sees that half:
    assert store.balances(owner) == {"P0": 0, "P1": 0, "P2": 0}
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
    assert store.balances(owner) == {"P0": 0, "P1": 0, "P2": 0, "LATE": 5}


def test_an_addition_during_a_pending_saga_waits_for_it(aws: Provisioned, interleave) -> None:
    owner = user()
    many_lots(owner, 120)  # more writes than a transaction holds: a saga
    interleave("saga-committed", lambda: add(owner, "EARLY", 10, "2019-01-01T00:00:00Z"))

    assert spent(owner, 240) == [("P0", -80), ("P1", -80), ("P2", -80)]

    assert store.balances(owner) == {"P0": 0, "P1": 0, "P2": 0, "EARLY": 10}


def test_a_competing_write_before_a_sagas_commit_makes_it_replan(aws: Provisioned, interleave) -> None:
    owner = user()
    many_lots(owner, 120)  # more writes than a transaction holds: a saga
    interleave("saga-prepared", lambda: add(owner, "EARLY", 10, "2019-01-01T00:00:00Z"))

    assert spent(owner, 240)[0] == ("EARLY", -10)
    assert store.balances(owner) == {"P0": 2, "P1": 4, "P2": 4, "EARLY": 0}
    assert not [item for item in items(owner) if item["sk"]["S"].startswith("SAGA#")]


def test_delete_removes_every_item_of_the_ledger_and_no_other(aws: Provisioned) -> None:
    owner, other = user(), user()
    many_lots(owner, 30)
    add(other, "A", 1, "2020-01-01T00:00:00Z")

    store.delete_ledger(owner)

    assert items(owner) == []
    assert store.balances(other) == {"A": 1}
