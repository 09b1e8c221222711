"""Plans and subscriptions as JSON, in the shapes of OpenMeter's v1 API: parse → rules → serialise.

Our plans are a simplified OpenMeter plan: one flat price per billing cadence instead of phases
and rate cards, with OpenMeter's field names for what they have (`billingCadence`, and `price`
shaped as its FlatPrice: `{"type": "flat", "amount": "12.50"}`). Changes take effect at once, so
`timing` may only be "immediate". The shapes are in app/plans/schemas.py.
"""

from flask import Blueprint, Response, request, url_for

from app.apiutil import json_body, query_bool, query_choice, query_int, query_page, query_texts
from app.common import MAX_PAGE_SIZE
from app.etags import conditional, expected_version, tagged
from app.plans import rules
from app.plans.schemas import (
    CancelRequest,
    Plan,
    PlanCreate,
    PlanPaginatedResponse,
    PlanReplaceUpdate,
    PlanSubscriptionChange,
    PlanSubscriptionCreate,
    Subscription,
    SubscriptionChangeResponseBody,
    SubscriptionPaginatedResponse,
)
from app.problems import FieldError, Invalid
from app.schemas import parse

bp = Blueprint("plans_api", __name__, url_prefix="/api/v1")


def _optional_body():
    """The JSON body, or an empty object when there is none (cancel needs no options)."""
    return json_body() if request.get_data(cache=True).strip() else {}


# --- Plans ------------------------------------------------------------------------------------


@bp.get("/plans")
def list_plans():
    page = rules.list_plans(
        keys=query_texts("key"),
        currency_codes=query_texts("currency"),
        include_deleted=query_bool("includeDeleted"),
        page=query_page(),
        page_size=query_int("pageSize", 100, 1, MAX_PAGE_SIZE),
        order_by=query_choice("orderBy", tuple(rules.PLAN_ORDERINGS), "key"),
        descending=query_choice("order", ("ASC", "DESC"), "ASC") == "DESC",
    )
    return PlanPaginatedResponse.of(page, [Plan.of(plan) for plan in page.items]).response()


@bp.post("/plans")
def create_plan():
    plan = rules.create_plan(parse(PlanCreate, json_body()).to_input())
    response = Plan.of(plan).response(201, {"Location": url_for(".get_plan", plan_id_or_key=plan.id)})
    return tagged(response, plan.id, plan.version)


@bp.get("/plans/<path:plan_id_or_key>")
def get_plan(plan_id_or_key: str):
    plan = rules.get_plan(plan_id_or_key)
    return tagged(Plan.of(plan).response(), plan.id, plan.version)


@bp.put("/plans/<path:plan_id_or_key>")
@conditional
def replace_plan(plan_id_or_key: str):
    data = parse(PlanReplaceUpdate, json_body()).to_input()
    plan = rules.get_plan(plan_id_or_key)  # If-Match names it by id, whichever way the path does
    plan = rules.replace_plan(plan.id, data, expected_version=expected_version(plan.id))
    return tagged(Plan.of(plan).response(), plan.id, plan.version)


@bp.delete("/plans/<path:plan_id_or_key>")
@conditional
def delete_plan(plan_id_or_key: str):
    plan = rules.get_plan(plan_id_or_key)
    rules.delete_plan(plan.id, expected_version=expected_version(plan.id))
    return Response(status=204)


# --- Subscriptions ----------------------------------------------------------------------------


@bp.post("/subscriptions")
def create_subscription():
    body = parse(PlanSubscriptionCreate, json_body())
    subscription = rules.subscribe(body.plan.key, customer_id=body.customer_id, customer_key=body.customer_key)
    location = url_for(".get_subscription", subscription_id=subscription.id)
    return Subscription.of(subscription).response(201, {"Location": location})


@bp.get("/subscriptions/<subscription_id>")
def get_subscription(subscription_id: str):
    return Subscription.of(rules.get_subscription(subscription_id)).response()


@bp.post("/subscriptions/<subscription_id>/change")
def change_subscription(subscription_id: str):
    old, new = rules.change_plan(subscription_id, parse(PlanSubscriptionChange, json_body()).plan.key)
    return SubscriptionChangeResponseBody(current=Subscription.of(old), next=Subscription.of(new)).response()


@bp.post("/subscriptions/<subscription_id>/cancel")
def cancel_subscription(subscription_id: str):
    parse(CancelRequest, _optional_body())  # its only option, timing, can only be "immediate"
    return Subscription.of(rules.cancel(subscription_id)).response()


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
    return SubscriptionPaginatedResponse.of(page, [Subscription.of(s) for s in page.items]).response()
