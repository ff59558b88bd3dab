"""The points API's worked example (docs/api.md, "Points"): five transactions, a spend of 5000, and what the API
answers to it. Handler tests and HTTP tests load it the same way."""

from __future__ import annotations

from typing import Any

TRANSACTIONS: tuple[dict[str, Any], ...] = (
    {"payer": "DANNON", "points": 300, "timestamp": "2020-10-31T10:00:00Z"},
    {"payer": "UNILEVER", "points": 200, "timestamp": "2020-10-31T11:00:00Z"},
    {"payer": "DANNON", "points": -200, "timestamp": "2020-10-31T15:00:00Z"},
    {"payer": "MILLER COORS", "points": 10000, "timestamp": "2020-11-01T14:00:00Z"},
    {"payer": "DANNON", "points": 1000, "timestamp": "2020-11-02T14:00:00Z"},
)
SPEND = {"points": 5000}
# What `POST /points/spend` answers: the oldest points first, per payer.
SPENT = [
    {"payer": "DANNON", "points": -100},
    {"payer": "UNILEVER", "points": -200},
    {"payer": "MILLER COORS", "points": -4700},
]
# What `GET /points/balance` answers afterwards, payers in the order they first gave points.
BALANCE = {"DANNON": 1000, "UNILEVER": 0, "MILLER COORS": 5300}
