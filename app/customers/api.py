"""Customers as JSON, in the shapes of OpenMeter's v1 API: parse → rules → serialise."""

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
from app.customers import rules
from app.customers.models import Customer
from app.etags import conditional, expected_version, tagged
from app.plans import rules as plan_rules
from app.plans.models import Subscription
from app.problems import Invalid, NotFound

bp = Blueprint("customers_api", __name__, url_prefix="/api/v1")

API_ORDERINGS = ("id", "name", "createdAt")


def customer_json(customer: Customer, current_subscription: Subscription | None = None) -> dict:
    """The customer; `current_subscription` is its active one, if any (callers load it, for a whole page at once)."""
    address = without_nulls({api: getattr(customer, f"address_{attr}") for attr, api in rules.ADDRESS_FIELDS.items()})
    return without_nulls(
        {
            "id": customer.id,
            "name": customer.name,
            "key": customer.key,
            "description": customer.description,
            "primaryEmail": customer.primary_email,
            "currency": customer.currency,
            "billingAddress": address or None,
            "usageAttribution": {"subjectKeys": customer.subject_keys},
            "metadata": customer.metadata_ or None,
            "currentSubscriptionId": current_subscription.id if current_subscription else None,
            "createdAt": timestamp(customer.created_at),
            "updatedAt": timestamp(customer.updated_at),
            "deletedAt": timestamp(customer.deleted_at),
        }
    )


def customer_input(body) -> rules.CustomerInput:
    """A CustomerInput from a request body; type errors are reported with their JSON path."""
    reader = Reader(body)
    address = None
    address_reader = reader.object("billingAddress")
    if address_reader is not None:
        address = rules.Address(**{attr: address_reader.string(api) for attr, api in rules.ADDRESS_FIELDS.items()})
        reader.errors += address_reader.errors
    subject_keys: list[str] = []
    usage = reader.object("usageAttribution")
    if usage is not None:
        subject_keys = usage.string_list("subjectKeys")
        reader.errors += usage.errors
    data = rules.CustomerInput(
        name=reader.string("name", required=True) or "",
        key=reader.string("key"),
        description=reader.string("description"),
        primary_email=reader.string("primaryEmail"),
        currency=reader.string("currency"),
        billing_address=address,
        subject_keys=subject_keys,
        metadata=reader.string_map("metadata"),
    )
    if reader.errors:
        raise Invalid(reader.errors)
    return data


@bp.post("/customers")
def create_customer():
    customer = rules.create(customer_input(json_body()))
    response = created(customer_json(customer), url_for(".get_customer", customer_id_or_key=customer.id))
    return tagged(response, customer.id, customer.version)


@bp.get("/customers")
def list_customers():
    filters = rules.CustomerFilters(
        key=request.args.get("key"),
        name=request.args.get("name"),
        primary_email=request.args.get("primaryEmail"),
        subject=request.args.get("subject"),
        plan_key=request.args.get("planKey"),
        include_deleted=query_bool("includeDeleted"),
        billing_profile_id=request.args.get("billingProfile"),
    )
    page = rules.list_customers(
        filters,
        page=query_page(),
        page_size=query_int("pageSize", 100, 1, rules.MAX_PAGE_SIZE),
        order_by=query_choice("orderBy", API_ORDERINGS, "name"),
        descending=query_choice("order", ("ASC", "DESC"), "ASC") == "DESC",
    )
    current = plan_rules.current_subscriptions([c.id for c in page.items])
    return jsonify(
        {
            "totalCount": page.total,
            "page": page.page,
            "pageSize": page.page_size,
            "items": [customer_json(c, current.get(c.id)) for c in page.items],
        }
    )


@bp.get("/customers/<path:customer_id_or_key>")
def get_customer(customer_id_or_key: str):
    customer = rules.get(customer_id_or_key)
    response = jsonify(customer_json(customer, plan_rules.active_subscription(customer.id)))
    return tagged(response, customer.id, customer.version)


@bp.put("/customers/<path:customer_id_or_key>")
@conditional
def replace_customer(customer_id_or_key: str):
    data = customer_input(json_body())
    customer = rules.get(customer_id_or_key)  # If-Match names it by id, whichever way the path does
    customer = rules.replace(customer.id, data, expected_version=expected_version(customer.id))
    response = jsonify(customer_json(customer, plan_rules.active_subscription(customer.id)))
    return tagged(response, customer.id, customer.version)


@bp.delete("/customers/<path:customer_id_or_key>")
@conditional
def delete_customer(customer_id_or_key: str):
    customer = rules.get(customer_id_or_key)
    rules.delete(customer.id, expected_version=expected_version(customer.id))
    return Response(status=204)


# What /customers/{customerIdOrKey} answers, by method.
_WHOLE_KEY_VIEWS = {"GET": get_customer, "PUT": replace_customer, "DELETE": delete_customer}


@bp.before_app_request
def _customer_by_whole_key():
    """Keys may hold "/": `/customers/a/apps` names the apps of customer "a", or the customer whose
    key is "a/apps" (likewise …/stripe, …/subscriptions, …/apps/{appId}). Werkzeug routes such a
    path to the sub-resource (its rule is more specific). The sub-resource wins while a customer has
    the id or key "a"; otherwise, when a live customer has the whole key, the answer is that
    customer's, as `/customers/{customerIdOrKey}` gives it (GET, PUT and DELETE)."""
    args = request.view_args or {}
    if request.blueprint == bp.name or "customer_id_or_key" not in args or request.method not in _WHOLE_KEY_VIEWS:
        return None
    whole = request.path.removeprefix(f"{bp.url_prefix}/customers/")
    if rules.find_by_key(whole) is None:
        return None
    try:
        rules.get(args["customer_id_or_key"])
        return None
    except NotFound:
        return _WHOLE_KEY_VIEWS[request.method](whole)
