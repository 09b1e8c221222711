"""The plan and subscription rules (SPEC §5), in one place for the console and the API.

Plain functions over the session, like the customer rules: they check, write and commit, or raise a
problem from `app.problems`. The currency rule lives here: a customer subscribes only to plans in its
own currency, and a customer without one takes the plan's on its first subscription. The two rules
that guard a subscribed customer (no delete, no currency change) are in `app.customers.rules`, which
asks `active_subscription` here.

Concurrency: every subscription write also updates the customer row, whose version column makes
concurrent writes to one customer (subscribe, change, cancel, edit, delete) fail instead of
interleaving; the partial unique index on active subscriptions is the last word on "one at a time".
"""

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TypeVar

from sqlalchemy import Select, bindparam, false, func, or_, select
from sqlalchemy.orm import contains_eager
from ulid import ULID

from app.common import Page
from app.customers import rules as customer_rules
from app.customers.models import Customer
from app.extensions import db, utcnow
from app.history import record as record_change  # `history` here is a customer's subscriptions
from app.plans.models import CADENCE_PATTERN, Plan, Subscription, format_amount
from app.problems import Conflict, FieldError, Invalid, NotFound, PreconditionFailed
from app.reference import currencies
from app.store import refuse_stale, unit_of_work
from app.text_rules import bad_characters, check_text

KEY_MAX = 64
NAME_MAX = 256
DESCRIPTION_MAX = 1024
CADENCE_MAX = 32
KEY_PATTERN = re.compile(r"[a-z0-9]+(?:_[a-z0-9]+)*")
# Decimal text in ASCII digits (\d and int() would take "١٢.٥٠"), short enough for int() to read.
AMOUNT_PATTERN = re.compile(r"([0-9]{1,32})(?:\.([0-9]{1,32}))?")
AMOUNT_MAX_WHOLE_DIGITS = 12  # up to 999,999,999,999 in major units, far within a 64-bit count of minor units

T = TypeVar("T")


@dataclass
class PlanInput:
    """A plan as typed. `amount` is the decimal text ("12.50"); `key` and `currency` only count on create."""

    name: str
    key: str | None = None
    currency: str | None = None
    amount: str | None = None
    billing_cadence: str | None = None
    description: str | None = None


# ---------------------------------------------------------------------------------------------
# Checking plans


def parse_amount(amount: str | None, currency: str | None) -> tuple[int | None, list[FieldError]]:
    """The decimal text as an exact count of the currency's minor units, or the errors that stop it.

    More decimals than the currency has are refused rather than rounded: "12.505" EUR is a typo,
    not 12.50 or 12.51.
    """
    name = "price.amount"
    example = format_amount(4900, currency) if currency in currencies() else "49.00"
    if amount is None or amount.strip() == "":
        return None, [FieldError(name, "required", f"Price is required (e.g. {example}).")]
    match = AMOUNT_PATTERN.fullmatch(amount.strip())
    if match is None:
        message = f'Price must be a number like {example}, without a currency sign or spaces ("{amount[:40]}" is not).'
        return None, [FieldError(name, "invalid_amount", message)]
    whole, fraction = match.group(1), match.group(2) or ""
    if len(whole.lstrip("0")) > AMOUNT_MAX_WHOLE_DIGITS:
        return None, [
            FieldError(
                name, "too_large", f"Price can have at most {AMOUNT_MAX_WHOLE_DIGITS} digits before the decimal point."
            )
        ]
    if currency not in currencies():
        return None, []  # the currency's own error says why; its decimals are unknown
    subunits = currencies()[currency].subunits
    if len(fraction) > subunits:
        allowed = "no decimals" if subunits == 0 else f"at most {subunits} decimal{'s' if subunits != 1 else ''}"
        message = f'A price in {currency} has {allowed}; "{amount.strip()}" has {len(fraction)}.'
        return None, [FieldError(name, "too_many_decimals", message)]
    return int(whole) * 10**subunits + int(fraction.ljust(subunits, "0") or 0), []


def check_plan_key(key: str | None) -> list[FieldError]:
    if key is None or key == "":
        return [FieldError("key", "required", "Key is required.")]
    if len(key) > KEY_MAX:
        return [FieldError("key", "too_long", f"Key must be at most {KEY_MAX} characters (it has {len(key)}).")]
    if not KEY_PATTERN.fullmatch(key):
        message = (
            "Key may hold only lower-case letters a–z and digits, in words joined by single underscores "
            "(e.g. pro_monthly)."
        )
        return [FieldError("key", "invalid_key", message)]
    return []


def _check_cadence(cadence: str | None) -> list[FieldError]:
    name = "billingCadence"
    if cadence is None or cadence == "":
        return [FieldError(name, "required", "Billing cadence is required (e.g. P1M for monthly).")]
    if (
        len(cadence) > CADENCE_MAX
        or not CADENCE_PATTERN.fullmatch(cadence)
        or not any(c.isdigit() and c != "0" for c in cadence)
    ):
        message = (
            "Billing cadence must be an ISO 8601 duration of whole days or more, e.g. P1M or P1Y "
            f'("{cadence[:40]}" is not).'
        )
        return [FieldError(name, "invalid_cadence", message)]
    return []


def _normalised(data: PlanInput) -> PlanInput:
    description = (data.description or "").strip() or None
    currency = (data.currency or "").strip().upper() or None
    return PlanInput(
        name=(data.name or "").strip(),
        key=data.key,
        currency=currency,
        amount=data.amount,
        billing_cadence=(data.billing_cadence or "").strip().upper() or None,
        description=description,
    )


def _check(data: PlanInput) -> tuple[int | None, list[FieldError]]:
    """Every field error at once, and the amount in minor units when it is valid."""
    errors: list[FieldError] = []
    check_text(errors, "name", data.name, NAME_MAX, label="Name", required=True)
    errors += check_plan_key(data.key)
    check_text(errors, "description", data.description, DESCRIPTION_MAX, label="Description", multiline=True)
    if data.currency is None:
        errors.append(FieldError("currency", "required", "Currency is required."))
    elif data.currency not in currencies():
        errors.append(
            FieldError("currency", "unknown_currency", f'"{data.currency[:20]}" is not an ISO 4217 currency code.')
        )
    amount, amount_errors = parse_amount(data.amount, data.currency)
    errors += amount_errors
    errors += _check_cadence(data.billing_cadence)
    return amount, errors


def snapshot(plan: Plan) -> dict:
    """The plan's fields under the API's names, for the change history (the price with its currency,
    so that it can be read as money)."""
    return {
        "key": plan.key,
        "name": plan.name,
        "description": plan.description,
        "currency": plan.currency,
        "price": {"amount": plan.amount, "currency": plan.currency},
        "billingCadence": plan.billing_cadence,
    }


def _describe(plan: Plan) -> str:
    return f'"{plan.name}" ({plan.key})'


def _key_conflict(key: str, plan_id: str | None = None) -> list[FieldError]:
    holder = find_plan_by_key(key)
    if holder is None or holder.id == plan_id:
        return []
    return [FieldError("key", "conflict", f'Key "{key}" is already the key of plan {_describe(holder)}.')]


# ---------------------------------------------------------------------------------------------
# Plans


def create_plan(data: PlanInput) -> Plan:
    """Create a plan. Raises Invalid, or Conflict when a live plan has the key."""
    data = _normalised(data)
    amount, errors = _check(data)
    if errors:
        raise Invalid(errors)
    if conflict := _key_conflict(data.key):
        raise Conflict(conflict)
    now = utcnow()
    plan = Plan(
        id=str(ULID()),
        key=data.key,
        name=data.name,
        description=data.description,
        currency=data.currency,
        amount=amount,
        billing_cadence=data.billing_cadence,
        created_at=now,
        updated_at=now,
    )
    taken = [FieldError("key", "conflict", "Another plan took this key meanwhile.")]
    # The index refuses a key that another plan took between the check and the insert.
    with unit_of_work(conflict=lambda: Conflict(_key_conflict(data.key) or taken)):
        db.session.add(plan)
        record_change("plan", plan.id, "create", {}, snapshot(plan))
    return plan


def replace_plan(id_or_key: str, data: PlanInput, expected_version: int | None = None) -> Plan:
    """Replace a plan's name, description, price and cadence (an omitted description is cleared).

    Key and currency cannot change (subscriptions rely on them): leave them out, or give the current
    ones. Raises NotFound, PreconditionFailed (deleted), StaleEdit or Invalid.
    """
    plan = get_plan(id_or_key)
    if plan.is_deleted:
        raise PreconditionFailed(f"Plan {_describe(plan)} is deleted and cannot be changed.")
    refuse_stale(f"Plan {_describe(plan)}", expected_version, plan.version)
    fixed = []
    if data.key is not None and data.key != plan.key:
        fixed.append(
            FieldError(
                "key", "immutable", f'The key of a plan cannot change (it is "{plan.key}"); create a new plan instead.'
            )
        )
    if data.currency is not None and data.currency.strip().upper() != plan.currency:
        fixed.append(
            FieldError(
                "currency",
                "immutable",
                f"The currency of a plan cannot change (it is {plan.currency}); create a new plan instead.",
            )
        )
    data = _normalised(PlanInput(**{**vars(data), "key": plan.key, "currency": plan.currency}))
    amount, errors = _check(data)
    if errors or fixed:
        raise Invalid(fixed + errors)
    before = snapshot(plan)
    with unit_of_work(stale="This plan was changed by someone else meanwhile; reload it and edit again."):
        plan.name = data.name
        plan.description = data.description
        plan.amount = amount
        plan.billing_cadence = data.billing_cadence
        plan.updated_at = utcnow()
        record_change("plan", plan.id, "update", before, snapshot(plan))
    return plan


def delete_plan(id_or_key: str, expected_version: int | None = None) -> Plan:
    """Soft-delete a plan: its key is free at once; subscriptions that ended keep pointing at it.

    Raises NotFound, PreconditionFailed (already deleted), StaleEdit (not at `expected_version`), or
    Conflict while customers are subscribed to it (naming them).
    """
    plan = get_plan(id_or_key)
    if plan.is_deleted:
        raise PreconditionFailed(f"Plan {_describe(plan)} is already deleted.")
    refuse_stale(f"Plan {_describe(plan)}", expected_version, plan.version)
    _refuse_if_subscribed(plan)
    now = utcnow()
    plan.deleted_at = now
    plan.updated_at = now
    with unit_of_work(stale="This plan was changed by someone else meanwhile; reload it and try again."):
        # Write first, then look again: the row is now locked (a subscribe holds it shared until it
        # commits), so a subscription that slipped in after the first look is seen here.
        db.session.flush()
        _refuse_if_subscribed(plan)
        record_change("plan", plan.id, "delete", {"deletedAt": None}, {"deletedAt": now.isoformat()})
    return plan


def _refuse_if_subscribed(plan: Plan) -> None:
    active = active_subscriptions_of_plan(plan.id, limit=6)
    if not active:
        return
    names = ", ".join(f'"{s.customer.name}"' for s in active[:5]) + (" and others" if len(active) > 5 else "")
    message = (
        f"Plan {_describe(plan)} has active subscriptions ({names}); "
        "cancel them or move those customers to another plan first."
    )
    raise Conflict([FieldError("plan", "has_active_subscriptions", message)])


def get_plan(id_or_key: str) -> Plan:
    """The plan with this id (live or deleted) or this key (live only). Raises NotFound."""
    plan = None
    if id_or_key and not bad_characters(id_or_key):
        if len(id_or_key) == 26:
            plan = db.session.get(Plan, id_or_key)
        if plan is None:
            plan = find_plan_by_key(id_or_key)
    if plan is None:
        raise NotFound(f'No plan has the id or key "{id_or_key[:256]}".')
    return plan


def find_plan_by_key(key: str) -> Plan | None:
    """The live plan whose key is exactly `key`, or None."""
    if not key or bad_characters(key):
        return None
    return db.session.scalars(select(Plan).where(Plan.key == key, Plan.deleted_at.is_(None))).one_or_none()


# OpenMeter's names for them.
PLAN_ORDERINGS = {"id": Plan.id, "key": Plan.key, "created_at": Plan.created_at, "updated_at": Plan.updated_at}


def list_plans(
    keys: list[str] | None = None,
    currency_codes: list[str] | None = None,
    include_deleted: bool = False,
    page: int = 1,
    page_size: int = 100,
    order_by: str = "key",
    descending: bool = False,
) -> Page:
    """One page of plans; `keys` and `currency_codes` match exactly, any of the given values."""
    where = []
    if not include_deleted:
        where.append(Plan.deleted_at.is_(None))
    for column, values in ((Plan.key, keys), (Plan.currency, currency_codes)):
        if values:
            where.append(column.in_([v for v in values if not bad_characters(v)]))
    column = PLAN_ORDERINGS[order_by]
    ordering = [column.desc(), Plan.id.desc()] if descending else [column.asc(), Plan.id.asc()]
    total = db.session.scalar(select(func.count()).select_from(Plan).where(*where))
    items = db.session.scalars(
        select(Plan).where(*where).order_by(*ordering).limit(page_size).offset((page - 1) * page_size)
    ).all()
    return Page(list(items), total or 0, page, page_size)


# Built once, for the busiest pages: building a statement and its cache key costs as much as running it.
_LIVE_PLANS = select(Plan).where(Plan.deleted_at.is_(None)).order_by(Plan.currency, Plan.sort_name, Plan.id)
_CURRENT_SUBSCRIPTIONS = select(Subscription).where(
    Subscription.customer_id.in_(bindparam("ids", expanding=True)), Subscription.active_to.is_(None)
)
_HISTORY = (
    select(Subscription)
    .where(Subscription.customer_id == bindparam("customer_id"))
    .order_by(Subscription.active_from.desc(), Subscription.id.desc())
)


def with_current_plan(customers: Select) -> Select:
    """A query over customers joined to each one's active subscription (it has at most one) and
    that subscription's plan; both are NULL for a customer without one."""
    return customers.outerjoin(
        Subscription, (Subscription.customer_id == Customer.id) & Subscription.active_to.is_(None)
    ).outerjoin(Plan, Plan.id == Subscription.plan_id)


def live_plans() -> list[Plan]:
    return list(db.session.scalars(_LIVE_PLANS))


def active_subscription_counts(plan_ids: list[str]) -> dict[str, int]:
    """How many customers are on each of these plans now, in one query."""
    rows = db.session.execute(
        select(Subscription.plan_id, func.count())
        .where(Subscription.plan_id.in_(plan_ids), Subscription.active_to.is_(None))
        .group_by(Subscription.plan_id)
    )
    return {plan_id: count for plan_id, count in rows}


def active_subscriptions_of_plan(plan_id: str, limit: int | None = None) -> list[Subscription]:
    query = (
        select(Subscription)
        .join(Subscription.customer)
        .options(contains_eager(Subscription.customer))
        .where(Subscription.plan_id == plan_id, Subscription.active_to.is_(None))
        .order_by(Customer.sort_name, Customer.id)
        .limit(limit)
    )
    return list(db.session.scalars(query))


# ---------------------------------------------------------------------------------------------
# Subscriptions


def active_subscription(customer_id: str) -> Subscription | None:
    """The customer's active subscription, if it has one (it has at most one)."""
    return db.session.scalars(
        select(Subscription).where(Subscription.customer_id == customer_id, Subscription.active_to.is_(None))
    ).one_or_none()


def current_subscriptions(customer_ids: list[str]) -> dict[str, Subscription]:
    """The active subscription (with its plan) of each of these customers that has one, in one query."""
    if not customer_ids:
        return {}
    rows = db.session.scalars(_CURRENT_SUBSCRIPTIONS, {"ids": customer_ids})
    return {s.customer_id: s for s in rows}


def get_subscription(subscription_id: str) -> Subscription:
    """Raises NotFound."""
    subscription = None
    if subscription_id and len(subscription_id) == 26 and not bad_characters(subscription_id):
        subscription = db.session.get(Subscription, subscription_id)
    if subscription is None:
        raise NotFound(f'No subscription has the id "{subscription_id[:256]}".')
    return subscription


SUBSCRIPTION_ORDERINGS = {"activeFrom": Subscription.active_from, "activeTo": Subscription.active_to}
STATUSES = ("active", "inactive", "canceled", "scheduled")


def customer_subscriptions(
    customer_id_or_key: str,
    statuses: list[str] | None = None,
    page: int = 1,
    page_size: int = 100,
    order_by: str = "activeFrom",
    descending: bool = False,
) -> Page:
    """One page of a customer's subscriptions, past and present. Raises NotFound (no such customer)."""
    customer = customer_rules.get(customer_id_or_key)
    where = [Subscription.customer_id == customer.id]
    if statuses:
        # Ours are active or inactive; "canceled" and "scheduled" (future end or start) never occur.
        wanted = []
        if "active" in statuses:
            wanted.append(Subscription.active_to.is_(None))
        if "inactive" in statuses:
            wanted.append(Subscription.active_to.is_not(None))
        where.append(or_(*wanted) if wanted else false())
    column = SUBSCRIPTION_ORDERINGS[order_by]
    ordering = [column.desc(), Subscription.id.desc()] if descending else [column.asc(), Subscription.id.asc()]
    total = db.session.scalar(select(func.count()).select_from(Subscription).where(*where))
    items = db.session.scalars(
        select(Subscription).where(*where).order_by(*ordering).limit(page_size).offset((page - 1) * page_size)
    ).all()
    return Page(list(items), total or 0, page, page_size)


def history(customer_id: str) -> list[Subscription]:
    """All of a customer's subscriptions, the newest first."""
    return list(db.session.scalars(_HISTORY, {"customer_id": customer_id}))


def _subscriber(customer_id: str | None, customer_key: str | None) -> Customer:
    """The customer named by id (which wins, as in OpenMeter; like a path, it also finds a live
    customer by key) or by key. Raises Invalid (neither given), NotFound or PreconditionFailed (deleted)."""
    if customer_id is not None:
        customer = customer_rules.get(customer_id)
    elif customer_key is not None:
        customer = customer_rules.find_by_key(customer_key)
        if customer is None:
            raise NotFound(f'No live customer has the key "{customer_key[:256]}".')
    else:
        raise Invalid([FieldError("customerId", "required", "Give the customer: customerId or customerKey.")])
    if customer.is_deleted:
        raise PreconditionFailed(f'Customer "{customer.name}" ({customer.id}) is deleted and cannot subscribe.')
    return customer


def _plan_to_subscribe(plan_key: str | None) -> Plan:
    if not plan_key:
        raise Invalid([FieldError("plan.key", "required", "Choose a plan.")])
    plan = find_plan_by_key(plan_key)
    if plan is None:
        raise NotFound(f'No live plan has the key "{plan_key[:256]}".')
    return plan


def fits_currency(plan: Plan, currency: str | None) -> bool:
    """The currency rule: a customer pays in one currency, so its plans must be in that currency;
    a customer without one (`currency` None) takes the plan's on its first subscription."""
    return currency is None or plan.currency == currency


def _refuse_other_currency(customer: Customer, plan: Plan) -> None:
    """Refuse a plan that the currency rule (fits_currency) does not allow this customer."""
    if not fits_currency(plan, customer.currency):
        message = (
            f'Plan {_describe(plan)} is priced in {plan.currency}, but customer "{customer.name}" pays in '
            f"{customer.currency}: a customer can only subscribe to plans in its own currency."
        )
        raise Invalid([FieldError("plan.key", "currency_mismatch", message)])


def _refuse_second_subscription(customer: Customer, current: Subscription | None) -> None:
    if current is not None:
        message = (
            f'Customer "{customer.name}" already has an active subscription, to plan {_describe(current.plan)} '
            f"({current.id}): change its plan or cancel it first."
        )
        raise Conflict([FieldError("customerId", "active_subscription", message)])


def _lock_customer(customer: Customer, now: datetime) -> None:
    """The first write of every subscription change: the customer row (with any change made to it).

    It locks the row for this transaction and bumps its version, so concurrent writes to one
    customer (subscribe, change, cancel, an edit of its currency, its delete) fail instead of
    interleaving; and taking this lock first everywhere keeps PostgreSQL free of deadlocks.
    """
    customer.updated_at = now
    db.session.flush()


def _refuse_ended(subscription: Subscription, reread: bool = False) -> None:
    """PreconditionFailed when the subscription has ended. `reread` after `_lock_customer`: a change
    or cancel that committed since it was first read is seen then, and not overwritten."""
    if reread:
        db.session.refresh(subscription)
    if not subscription.is_active:
        raise PreconditionFailed(f"Subscription {subscription.id} has already ended.")


def _start(customer: Customer, plan: Plan, now: datetime) -> Subscription:
    """Start a subscription in the current transaction, after `_lock_customer` (the caller commits).

    The plan is read again under a shared lock: a plan deleted meanwhile is noticed here, and a plan
    delete that comes later waits for this transaction and then sees the subscription.
    """
    db.session.refresh(plan, with_for_update={"read": True})
    if plan.is_deleted:
        raise NotFound(f"Plan {_describe(plan)} was deleted meanwhile.")
    subscription = Subscription(
        id=str(ULID()),
        customer_id=customer.id,
        plan_id=plan.id,
        currency=plan.currency,
        active_from=now,
        created_at=now,
        updated_at=now,
    )
    db.session.add(subscription)
    return subscription


def _write(customer_id: str, change: Callable[[datetime], T]) -> T:
    """Run `change` and commit it in one transaction, or roll it all back.

    When a concurrent write to the same customer won (the version check or the one-active index
    refused ours), the Conflict says what the customer has now.
    """

    def changed_meanwhile() -> Conflict:
        current = active_subscription(customer_id)
        if current is not None:
            _refuse_second_subscription(current.customer, current)
        message = "The customer was changed by someone else meanwhile; reload it and try again."
        return Conflict([FieldError("customerId", "changed", message)])

    with unit_of_work(stale=changed_meanwhile, conflict=changed_meanwhile):
        result = change(utcnow())
    return result


def subscribe(plan_key: str | None, customer_id: str | None = None, customer_key: str | None = None) -> Subscription:
    """Start a subscription of the customer (by id, which wins, else by key) to the live plan with this key.

    A customer without a currency takes the plan's, in the same transaction. Raises Invalid (no
    customer or plan given, or the plan is in another currency than the customer's), NotFound (no
    such customer or plan), PreconditionFailed (the customer is deleted) or Conflict (the customer
    already has an active subscription).
    """
    customer = _subscriber(customer_id, customer_key)
    plan = _plan_to_subscribe(plan_key)
    _refuse_other_currency(customer, plan)
    _refuse_second_subscription(customer, active_subscription(customer.id))

    def start(now: datetime) -> Subscription:
        if customer.currency is None:
            customer.currency = plan.currency  # the first subscription decides what the customer pays in
            record_change("customer", customer.id, "update", {"currency": None}, {"currency": plan.currency})
        _lock_customer(customer, now)
        subscription = _start(customer, plan, now)
        record_change("subscription", subscription.id, "subscribe", {}, {"plan": plan.id})
        return subscription

    return _write(customer.id, start)


def change_plan(subscription_id: str, plan_key: str | None) -> tuple[Subscription, Subscription]:
    """End an active subscription now and start one on another plan, in one transaction.

    Returns (the ended one, the new one). Raises NotFound, PreconditionFailed (it already ended),
    Invalid (no plan, the same plan, or a plan in another currency) or Conflict (a concurrent change).
    """
    old = get_subscription(subscription_id)
    _refuse_ended(old)
    customer = old.customer
    plan = _plan_to_subscribe(plan_key)
    if plan.id == old.plan_id:
        raise Invalid([FieldError("plan.key", "same_plan", f"The customer is already on plan {_describe(plan)}.")])
    _refuse_other_currency(customer, plan)

    def switch(now: datetime) -> tuple[Subscription, Subscription]:
        _lock_customer(customer, now)
        _refuse_ended(old, reread=True)
        old.active_to = now
        old.updated_at = now
        db.session.flush()  # the old one ends before the new one starts, as the one-active index wants
        new = _start(customer, plan, now)
        # One row for the one step, on the subscription that follows (the customer's history finds both).
        record_change("subscription", new.id, "change_plan", {"plan": old.plan_id}, {"plan": plan.id})
        return old, new

    return _write(customer.id, switch)


def cancel(subscription_id: str) -> Subscription:
    """End an active subscription now. Raises NotFound, PreconditionFailed (it already ended) or Conflict."""
    subscription = get_subscription(subscription_id)
    _refuse_ended(subscription)

    def end(now: datetime) -> Subscription:
        _lock_customer(subscription.customer, now)
        _refuse_ended(subscription, reread=True)
        subscription.active_to = now
        subscription.updated_at = now
        record_change("subscription", subscription.id, "cancel", {"plan": subscription.plan_id}, {"plan": None})
        return subscription

    return _write(subscription.customer_id, end)
