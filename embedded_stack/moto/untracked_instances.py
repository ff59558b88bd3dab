"""Model instances are not tracked.

Every moto model (`BaseModel.__new__`) appends itself to its class's `instances_tracked` list, for the
`/moto-api/data.json` dashboard, and nothing ever removes it: every item version written, every item copy
`update_item` makes and every table copy stays in memory for the life of the process (128 → 312 MB over 300 tenant
creates). `_new_untracked` creates the instance only, so what moto drops is freed; the dashboard (unused here)
lists nothing. (Weak references would keep it, at 500 bytes per live item: as much again as the item itself.)
"""

from __future__ import annotations

from typing import Any

from moto.core.common_models import BaseModel


def install() -> None:
    BaseModel.__new__ = _new_untracked  # type: ignore[assignment,method-assign]


def _new_untracked(cls: type[BaseModel], *args: Any, **kwargs: Any) -> BaseModel:
    return object.__new__(cls)
