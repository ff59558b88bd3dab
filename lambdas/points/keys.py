"""The points table's key layout: every item of a user's ledger lies in one partition, ``pk = <the user's sub>``.

By sort key ``sk``:
- ``BALANCE``: the ledger head: ``version`` (bumped by every change) and, while a large spend is being applied,
  ``saga``/``sagaSteps``.
- ``BALANCE#<payer key>``: one payer's ``balance`` and name (``payer``, ``firstSeen`` for the answer's order).
  The head sorts first, so one strongly consistent Query ``begins_with(sk, "BALANCE")`` reads the head and every
  balance.
- ``LOT#<payer key>#<timestamp>#<id>``: an open lot, with ``remaining`` points. Per payer, a Query returns the
  oldest first (lambdas.shared.sort_keys); a used-up lot is deleted, its transaction stays in the history.
- ``TX#<recordedAt>#<id>``: the history, additions, negatives and spends, newest first.
- ``SAGA#<id>#<step>``: the steps of a spend too large for one transaction (ledger.py).

The payer key is a hash of the name (rules.payer_key): names may hold `#`; the name itself is kept in the items.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from lambdas.points import rules
from lambdas.points.models import HistoryEntry, PayerPoints
from lambdas.shared.sort_keys import sort_key
from lambdas.shared.timestamps import format_timestamp

HEAD = "BALANCE"
BALANCE = "BALANCE#"
LOT = "LOT#"
HISTORY = "TX#"
SAGA = "SAGA#"


def key(user: str, sk: str) -> dict[str, Any]:
    """A DynamoDB key, typed."""
    return {"pk": {"S": user}, "sk": {"S": sk}}


def balance_sk(payer: str) -> str:
    return BALANCE + rules.payer_key(payer)


def lots_prefix(payer: str) -> str:
    """The prefix of every lot of `payer`: a Query on it reads them oldest first."""
    return f"{LOT}{rules.payer_key(payer)}#"


def lot_sk(lot: rules.Lot) -> str:
    return lots_prefix(lot.payer) + lot.order


def history_sk(recorded_at: datetime, entry_id: str) -> str:
    return HISTORY + sort_key(recorded_at, entry_id)


def saga_step_sk(saga_id: str, number: int) -> str:
    return f"{SAGA}{saga_id}#{number:06d}"


def lot_item(user: str, lot: rules.Lot) -> dict[str, Any]:
    """An open lot, as plain values (lambdas.shared.attribute_values types them)."""
    return {
        "pk": user,
        "sk": lot_sk(lot),
        "id": lot.id,
        "payer": lot.payer,
        "timestamp": format_timestamp(lot.timestamp),
        "remaining": lot.remaining,
    }


def lot_of(item: dict[str, Any]) -> rules.Lot:
    return rules.Lot(
        payer=item["payer"],
        timestamp=datetime.fromisoformat(item["timestamp"].replace("Z", "+00:00")),
        id=item["id"],
        remaining=int(item["remaining"]),
    )


def balance_item(user: str, payer: str, balance: int, first_seen: str) -> dict[str, Any]:
    return {"pk": user, "sk": balance_sk(payer), "payer": payer, "firstSeen": first_seen, "balance": balance}


def history_item(
    user: str, recorded_at: datetime, entry_id: str, *, kind: str, payer: str | None, points: int, timestamp: datetime
) -> dict[str, Any]:
    """A history entry: a transaction (`payer`, signed `points`) or a spend (no payer; ledger.py adds `consumed`)."""
    item: dict[str, Any] = {
        "pk": user,
        "sk": history_sk(recorded_at, entry_id),
        "id": entry_id,
        "kind": kind,
        "points": points,
        "timestamp": format_timestamp(timestamp),
        "recordedAt": format_timestamp(recorded_at),
    }
    if payer is not None:
        item["payer"] = payer
    return item


def history_entry(item: dict[str, Any]) -> HistoryEntry:
    consumed = item.get("consumed")
    return HistoryEntry(
        id=item["id"],
        kind=item["kind"],
        payer=item.get("payer"),
        points=int(item["points"]),
        timestamp=item["timestamp"],
        recorded_at=item["recordedAt"],
        consumed=[PayerPoints(payer=c["payer"], points=int(c["points"])) for c in consumed] if consumed else None,
    )
