"""Customers as JSON, in the shapes of OpenMeter's v1 API: parse → rules → serialise."""

from flask import Blueprint, Response, request, url_for

from app.apiutil import (
    json_body,
    query_bool,
    query_choice,
    query_flag,
    query_int,
    query_map,
    query_page,
    query_text,
    query_texts,
    query_time,
)
from app.common import MAX_PAGE_SIZE
from app.customers import export, lifecycle, listing, rules
from app.customers.schemas import Customer, CustomerCreate, CustomerPaginatedResponse
from app.etags import conditional, expected_version, tagged
from app.plans import rules as plan_rules
from app.problems import NotFound
from app.schemas import parse

bp = Blueprint("customers_api", __name__, url_prefix="/api/v1")

API_ORDERINGS = ("id", "name", "createdAt")


@bp.post("/customers")
def create_customer():
    customer = rules.create(parse(CustomerCreate, json_body()).to_input())
    response = Customer.of(customer).response(
        201, {"Location": url_for(".get_customer", customer_id_or_key=customer.id)}
    )
    return tagged(response, customer.id, customer.version)


def _list_filters() -> listing.CustomerFilters:
    """The list's filters, as the list and the export take them."""
    return listing.CustomerFilters(
        key=query_text("key"),
        name=query_text("name"),
        primary_email=query_text("primaryEmail"),
        subject=query_text("subject"),
        plan_key=query_text("planKey"),
        include_deleted=query_bool("includeDeleted"),
        billing_profile_id=query_text("billingProfile"),
        tag=query_text("tag"),
        metadata=(
            *query_map("metadata").items(),
            *((key, None) for key in query_texts("hasMetadataKey")),
        ),
        metadata_absent=tuple(query_texts("missingMetadataKey")),
        country=query_text("country"),
        created_from=query_time("createdFrom"),
        created_until=query_time("createdBefore"),
        has_stripe_customer=query_flag("hasStripeCustomerId"),
        has_payment_method=query_flag("hasPaymentMethod"),
        has_email=query_flag("hasPrimaryEmail"),
    )


def _list_order() -> tuple[str, bool]:
    return query_choice("orderBy", API_ORDERINGS, "name"), query_choice("order", ("ASC", "DESC"), "ASC") == "DESC"


@bp.get("/customers")
def list_customers():
    order_by, descending = _list_order()
    page = listing.list_customers(
        _list_filters(),
        page=query_page(),
        page_size=query_int("pageSize", 100, 1, MAX_PAGE_SIZE),
        order_by=order_by,
        descending=descending,
    )
    current = plan_rules.current_subscriptions([c.id for c in page.items])
    items = [Customer.of(c, current.get(c.id)) for c in page.items]
    return CustomerPaginatedResponse.of(page, items).response()


@bp.get("/customers/export")
def export_customers():
    """Every customer the list's filters match, in its order, as one CSV or JSON Lines file (streamed)."""
    order_by, descending = _list_order()
    file_format = query_choice("format", tuple(export.FORMATS), "csv")
    wanted = export.Export(
        _list_filters(), order_by, descending, export.metadata_keys(request.args.getlist("metadataKey"))
    )
    return export.download(wanted, file_format)


@bp.get("/customers/<path:customer_id_or_key>")
def get_customer(customer_id_or_key: str):
    customer = rules.get(customer_id_or_key)
    response = Customer.of(customer, plan_rules.active_subscription(customer.id)).response()
    return tagged(response, customer.id, customer.version)


@bp.put("/customers/<path:customer_id_or_key>")
@conditional
def replace_customer(customer_id_or_key: str):
    data = parse(CustomerCreate, json_body()).to_input()
    customer = rules.get(customer_id_or_key)  # If-Match names it by id, whichever way the path does
    customer = lifecycle.replace(customer.id, data, expected_version=expected_version(customer.id))
    response = Customer.of(customer, plan_rules.active_subscription(customer.id)).response()
    return tagged(response, customer.id, customer.version)


@bp.delete("/customers/<path:customer_id_or_key>")
@conditional
def delete_customer(customer_id_or_key: str):
    customer = rules.get(customer_id_or_key)
    lifecycle.delete(customer.id, expected_version=expected_version(customer.id))
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
