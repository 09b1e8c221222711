"""The change history: who changed what, when, field by field.

The rules call `record` just before they commit, so a change and its history row are written in
the same transaction or not at all. Who made the change comes from `current_actor`, which the gate
(app.auth) sets for each request, and a background job for its work (with its own id, `g.job_id`,
so that an import's or a bulk change's changes can be found, and the operator's `g.reason` for a
bulk change); the rules themselves never see a request.
"""

from dataclasses import dataclass
from datetime import datetime

from flask import g, has_app_context
from sqlalchemy import select

from app.extensions import db, utcnow


@dataclass(frozen=True)
class Actor:
    type: str  # "operator", "token" or "system"
    id: str | None
    name: str


SYSTEM = Actor("system", None, "system")
# A subscription has its own: subscribe, change_plan (ends one and starts the next) and cancel.
ACTIONS = ("create", "update", "delete", "restore", "subscribe", "change_plan", "cancel")


def current_actor() -> Actor:
    """Who is acting: set by the gate for a request; "system" outside one (first start, the CLI)."""
    return g.get("actor", SYSTEM) if has_app_context() else SYSTEM


def diff(before: dict, after: dict) -> list[dict]:
    """The fields whose values differ, in the order they first appear, with both values."""
    changes = []
    for name in dict.fromkeys([*before, *after]):
        old, new = before.get(name), after.get(name)
        if old != new:
            changes.append({"field": name, "before": old, "after": new})
    return changes


def latest_change(entity_type: str, entity_id: str) -> "tuple[str, datetime] | None":
    """Who made the latest recorded change of an object, and when (for the message of a stale edit)."""
    from app.history.models import Change

    row = db.session.execute(
        select(Change.actor_name, Change.at)
        .where(Change.entity_type == entity_type, Change.entity_id == entity_id)
        .order_by(Change.id.desc())
        .limit(1)
    ).first()
    return (row.actor_name, row.at) if row else None


def record(entity_type: str, entity_id: str, action: str, before: dict, after: dict) -> None:
    """Add a history row to the session (the caller commits it with its own change).

    `before` and `after` are snapshots of the object (JSON values by field name); only the fields
    that differ are kept. An update that changes nothing is not recorded.
    """
    from app.history.models import Change

    values = row(entity_type, entity_id, action, before, after)
    if values is not None:
        db.session.add(Change(**values))


def row(entity_type: str, entity_id: str, action: str, before: dict, after: dict) -> dict | None:
    """The column values of the history row `record` adds (None for an update that changes
    nothing), for a caller that inserts many rows at once."""
    changes = diff(before, after)
    if action == "update" and not changes:
        return None
    actor = current_actor()
    in_app = has_app_context()
    return {
        "at": utcnow(),
        "actor_type": actor.type,
        "actor_id": actor.id,
        "actor_name": actor.name,
        "entity_type": entity_type,
        "entity_id": entity_id,
        "action": action,
        "changes": changes,
        "job_id": g.get("job_id") if in_app else None,
        "reason": g.get("reason") if in_app else None,
    }
