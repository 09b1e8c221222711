"""Plans and subscriptions as JSON, in the shapes of OpenMeter's v1 API: parse → rules → serialise.

Our plans are a simplified OpenMeter plan: one flat price per billing cadence instead of phases
and rate cards, with OpenMeter's field names for what they have (`billingCadence`, and `price`
shaped as its FlatPrice: `{"type": "flat", "amount": "12.50"}`). Changes take effect at once, so
`timing` may only be "immediate".
"""

from flask import Blueprint, Response, jsonify, request, url_for

from app.apiutil import (
    Reader,
    created,
    json_body,
    query_bool,
    query_choice,
    query_int,
    query_page,
    timestamp,
    without_nulls,
)
from app.common import MAX_PAGE_SIZE
from app.etags import conditional, expected_version, tagged
from app.plans import rules
from app.plans.models import Plan, Subscription
from app.problems import FieldError, Invalid

bp = Blueprint("plans_api", __name__, url_prefix="/api/v1")


def plan_json(plan: Plan) -> dict:
    return without_nulls(
        {
            "id": plan.id,
            "key": plan.key,
            "name": plan.name,
            "description": plan.description,
            "currency": plan.currency,
            "billingCadence": plan.billing_cadence,
            "price": {"type": "flat", "amount": plan.amount_text},
            "createdAt": timestamp(plan.created_at),
            "updatedAt": timestamp(plan.updated_at),
            "deletedAt": timestamp(plan.deleted_at),
        }
    )


def subscription_json(subscription: Subscription) -> dict:
    plan = subscription.plan
    return without_nulls(
        {
            "id": subscription.id,
            "name": plan.name,
            "customerId": subscription.customer_id,
            "plan": {"id": plan.id, "key": plan.key},
            "currency": subscription.currency,
            "billingCadence": plan.billing_cadence,
            "status": subscription.status,
            "activeFrom": timestamp(subscription.active_from),
            "activeTo": timestamp(subscription.active_to),
            "billingAnchor": timestamp(subscription.active_from),
            "createdAt": timestamp(subscription.created_at),
            "updatedAt": timestamp(subscription.updated_at),
        }
    )


def _page_json(page, serialise) -> dict:
    return {
        "totalCount": page.total,
        "page": page.page,
        "pageSize": page.page_size,
        "items": [serialise(item) for item in page.items],
    }


def _plan_input(body, creating: bool) -> rules.PlanInput:
    """A PlanInput from a body; type errors are reported with their JSON path."""
    reader = Reader(body)
    amount = None
    price = reader.object("price")
    if reader.obj.get("price") is None:
        reader.errors.append(FieldError("price", "required", "price is required."))
    if price is not None:
        price_type = price.string("type")
        if price_type not in (None, "flat"):
            price.errors.append(FieldError("price.type", "unsupported", 'price.type can only be "flat".'))
        amount = price.string("amount", required=True)
        reader.errors += price.errors
    data = rules.PlanInput(
        name=reader.string("name", required=True) or "",
        key=reader.string("key", required=creating),
        currency=reader.string("currency", required=creating),
        amount=amount,
        billing_cadence=reader.string("billingCadence", required=True),
        description=reader.string("description"),
    )
    if reader.errors:
        raise Invalid(reader.errors)
    return data


def _plan_key(reader: Reader) -> str | None:
    """`plan.key` of a subscription body (OpenMeter's PlanReferenceInput; we have no plan versions)."""
    if "customPlan" in reader.obj:
        reader.errors.append(
            FieldError("customPlan", "unsupported", "Custom plans are not supported: give plan.key instead.")
        )
    plan = reader.object("plan")
    if plan is None:
        if reader.obj.get("plan") is None:
            reader.errors.append(FieldError("plan", "required", "plan is required."))
        return None
    key = plan.string("key", required=True)
    reader.errors += plan.errors
    return key


def _check_timing(reader: Reader) -> None:
    timing = reader.obj.get("timing")
    if timing is not None and timing != "immediate":
        message = 'Changes take effect at once here: timing can only be "immediate" (or left out).'
        reader.errors.append(FieldError("timing", "unsupported", message))


def _optional_body():
    """The JSON body, or an empty object when there is none (cancel needs no options)."""
    return json_body() if request.get_data(cache=True).strip() else {}


# --- Plans ------------------------------------------------------------------------------------


@bp.get("/plans")
def list_plans():
    page = rules.list_plans(
        keys=request.args.getlist("key"),
        currency_codes=request.args.getlist("currency"),
        include_deleted=query_bool("includeDeleted"),
        page=query_page(),
        page_size=query_int("pageSize", 100, 1, MAX_PAGE_SIZE),
        order_by=query_choice("orderBy", tuple(rules.PLAN_ORDERINGS), "key"),
        descending=query_choice("order", ("ASC", "DESC"), "ASC") == "DESC",
    )
    return jsonify(_page_json(page, plan_json))


@bp.post("/plans")
def create_plan():
    plan = rules.create_plan(_plan_input(json_body(), creating=True))
    return tagged(created(plan_json(plan), url_for(".get_plan", plan_id_or_key=plan.id)), plan.id, plan.version)


@bp.get("/plans/<path:plan_id_or_key>")
def get_plan(plan_id_or_key: str):
    plan = rules.get_plan(plan_id_or_key)
    return tagged(jsonify(plan_json(plan)), plan.id, plan.version)


@bp.put("/plans/<path:plan_id_or_key>")
@conditional
def replace_plan(plan_id_or_key: str):
    data = _plan_input(json_body(), creating=False)
    plan = rules.get_plan(plan_id_or_key)  # If-Match names it by id, whichever way the path does
    plan = rules.replace_plan(plan.id, data, expected_version=expected_version(plan.id))
    return tagged(jsonify(plan_json(plan)), plan.id, plan.version)


@bp.delete("/plans/<path:plan_id_or_key>")
@conditional
def delete_plan(plan_id_or_key: str):
    plan = rules.get_plan(plan_id_or_key)
    rules.delete_plan(plan.id, expected_version=expected_version(plan.id))
    return Response(status=204)


# --- Subscriptions ----------------------------------------------------------------------------


@bp.post("/subscriptions")
def create_subscription():
    reader = Reader(json_body())
    plan_key = _plan_key(reader)
    customer_id = reader.string("customerId")
    customer_key = reader.string("customerKey")
    _check_timing(reader)
    if reader.errors:
        raise Invalid(reader.errors)
    subscription = rules.subscribe(plan_key, customer_id=customer_id, customer_key=customer_key)
    return created(subscription_json(subscription), url_for(".get_subscription", subscription_id=subscription.id))


@bp.get("/subscriptions/<subscription_id>")
def get_subscription(subscription_id: str):
    return jsonify(subscription_json(rules.get_subscription(subscription_id)))


@bp.post("/subscriptions/<subscription_id>/change")
def change_subscription(subscription_id: str):
    reader = Reader(json_body())
    plan_key = _plan_key(reader)
    _check_timing(reader)
    if reader.errors:
        raise Invalid(reader.errors)
    old, new = rules.change_plan(subscription_id, plan_key)
    return jsonify({"current": subscription_json(old), "next": subscription_json(new)})


@bp.post("/subscriptions/<subscription_id>/cancel")
def cancel_subscription(subscription_id: str):
    reader = Reader(_optional_body())
    _check_timing(reader)
    if reader.errors:
        raise Invalid(reader.errors)
    return jsonify(subscription_json(rules.cancel(subscription_id)))


@bp.get("/customers/<path:customer_id_or_key>/subscriptions")
def list_customer_subscriptions(customer_id_or_key: str):
    statuses = request.args.getlist("status")
    for status in statuses:
        if status not in rules.STATUSES:
            message = f"status must be one of {', '.join(rules.STATUSES)}."
            raise Invalid([FieldError("status", "invalid", message)])
    page = rules.customer_subscriptions(
        customer_id_or_key,
        statuses=statuses,
        page=query_page(),
        page_size=query_int("pageSize", 100, 1, MAX_PAGE_SIZE),
        order_by=query_choice("orderBy", tuple(rules.SUBSCRIPTION_ORDERINGS), "activeFrom"),
        descending=query_choice("order", ("ASC", "DESC"), "ASC") == "DESC",
    )
    return jsonify(_page_json(page, subscription_json))
