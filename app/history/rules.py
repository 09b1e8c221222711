"""Reading the change history: one object's changes, and the activity log with its filters.

Both answer `Shown` changes (app.history.readable): in words, with the ids they name looked up.
A customer's history includes its subscriptions' (subscribe, change of plan, cancel): they are
recorded on the subscription, and read here through the subscriptions table.
"""

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, and_, bindparam, func, or_, select

from app.common import Page
from app.extensions import db
from app.history.models import Change
from app.history.readable import KINDS, Shown, show
from app.plans.models import Subscription
from app.text_rules import bad_characters

# What the activity page can filter on, with the names operators read.
ENTITY_TYPES = KINDS


def _of_customer(customer_id) -> ColumnElement:
    """The rows of a customer's subscriptions."""
    return and_(
        Change.entity_type == "subscription",
        Change.entity_id.in_(select(Subscription.id).where(Subscription.customer_id == customer_id)),
    )


# Built once, for every page that shows its changes: building a statement and its cache key costs
# as much as running it.
_FOR_ENTITY = (
    select(Change)
    .where(Change.entity_type == bindparam("type"), Change.entity_id == bindparam("id"))
    .order_by(Change.id.desc())
    .limit(bindparam("limit"))
)
_FOR_CUSTOMER = (
    select(Change)
    .where(
        or_(and_(Change.entity_type == "customer", Change.entity_id == bindparam("id")), _of_customer(bindparam("id")))
    )
    .order_by(Change.id.desc())
    .limit(bindparam("limit"))
)


def for_entity(entity_type: str, entity_id: str, limit: int = 100) -> list[Shown]:
    """The latest changes of one object, newest first (a customer's with its subscriptions')."""
    if entity_type == "customer":
        found = db.session.scalars(_FOR_CUSTOMER, {"id": entity_id, "limit": limit})
    else:
        found = db.session.scalars(_FOR_ENTITY, {"type": entity_type, "id": entity_id, "limit": limit})
    return show(list(found))


@dataclass
class ActivityFilters:
    entity_type: str | None = None
    actor: str | None = None  # case-insensitive substring of the actor's name
    since: datetime | None = None  # inclusive
    until: datetime | None = None  # exclusive
    entity_id: str | None = None
    job_id: str | None = None  # the changes one job (an import) made


def _conditions(filters: ActivityFilters) -> list[ColumnElement]:
    where: list[ColumnElement] = []
    if filters.entity_type == "customer" and filters.entity_id:
        # One customer's changes: with its subscriptions', as its page shows them.
        where.append(
            or_(
                and_(Change.entity_type == "customer", Change.entity_id == filters.entity_id),
                _of_customer(filters.entity_id),
            )
        )
    else:
        if filters.entity_type:
            where.append(Change.entity_type == filters.entity_type)
        if filters.entity_id:
            where.append(Change.entity_id == filters.entity_id)
    if filters.job_id:
        where.append(Change.job_id == filters.job_id)
    if filters.actor:
        where.append(Change.actor_name.icontains(filters.actor, autoescape=True))
    if filters.since:
        where.append(Change.at >= filters.since)
    if filters.until:
        where.append(Change.at < filters.until)
    return where


def activity(filters: ActivityFilters, page: int = 1, page_size: int = 50) -> Page:
    """One page of changes, newest first."""
    if any(bad_characters(v) for v in (filters.actor, filters.entity_id, filters.job_id) if v):
        return Page([], 0, page, page_size)  # such a value matches nothing, and PostgreSQL refuses NUL
    where = _conditions(filters)
    total = db.session.scalar(select(func.count()).select_from(Change).where(*where))
    items = db.session.scalars(
        select(Change).where(*where).order_by(Change.id.desc()).limit(page_size).offset((page - 1) * page_size)
    ).all()
    return Page(show(list(items)), total or 0, page, page_size)
