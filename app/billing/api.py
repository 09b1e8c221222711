"""Billing profiles as JSON, in the shapes of OpenMeter's v1 API: parse → rules → serialise."""

from flask import Blueprint, Response, request, url_for

from app.apiutil import json_body, query_bool, query_choice, query_int, query_page, query_text, query_texts
from app.billing import overrides, rules
from app.billing.schemas import (
    BillingProfile,
    BillingProfileCreate,
    BillingProfileCustomerOverrideCreate,
    BillingProfilePaginatedResponse,
    BillingProfileReplaceUpdateWithWorkflow,
    CustomerOverride,
    CustomerOverridePaginatedResponse,
)
from app.common import MAX_PAGE_SIZE
from app.customers import listing
from app.customers import rules as customer_rules
from app.etags import conditional, expected_version, tagged
from app.problems import FieldError, Invalid
from app.schemas import parse

bp = Blueprint("billing_api", __name__, url_prefix="/api/v1")


def _expand_apps() -> bool:
    """`expand=apps`, repeated (OpenMeter's clients send one parameter per value) or comma-separated."""
    values = {v for raw in request.args.getlist("expand") for v in raw.split(",") if v}
    if values - {"apps"}:
        raise Invalid([FieldError("expand", "invalid", "expand can only be apps.")])
    return "apps" in values


@bp.get("/billing/profiles")
def list_profiles():
    expand = _expand_apps()
    page = rules.list_profiles(
        include_deleted=query_bool("includeArchived"),
        page=query_page(),
        page_size=query_int("pageSize", 100, 1, MAX_PAGE_SIZE),
        order_by=query_choice("orderBy", tuple(rules.ORDERINGS), "createdAt"),
        descending=query_choice("order", ("ASC", "DESC"), "ASC") == "DESC",
        with_apps=expand,
    )
    return BillingProfilePaginatedResponse.of_profiles(page, expand).response()


@bp.post("/billing/profiles")
def create_profile():
    profile = rules.create(parse(BillingProfileCreate, json_body()).to_input())
    response = BillingProfile.of(profile).response(201, {"Location": url_for(".get_profile", id=profile.id)})
    return tagged(response, profile.id, profile.version)


@bp.get("/billing/profiles/<id>")
def get_profile(id: str):
    expand = _expand_apps()
    profile = rules.get(id)
    return tagged(BillingProfile.of(profile, expand).response(), profile.id, profile.version)


@bp.put("/billing/profiles/<id>")
@conditional
def replace_profile(id: str):
    data = parse(BillingProfileReplaceUpdateWithWorkflow, json_body()).to_input()
    # Not read here first: the rule reads the profile only once the default changes queue (see there).
    profile = rules.replace(id, data, expected_version=expected_version(id))
    return tagged(BillingProfile.of(profile).response(), profile.id, profile.version)


@bp.delete("/billing/profiles/<id>")
@conditional
def delete_profile(id: str):
    rules.delete(id, expected_version=expected_version(id))
    return Response(status=204)


# ---------------------------------------------------------------------------------------------
# Customer overrides (SPEC §3)


OVERRIDE_EXPANDS = ("apps", "customer")
OVERRIDE_ORDERINGS = ("customerId", "customerName", "customerKey", "customerPrimaryEmail", "customerCreatedAt")


def _override_expand() -> set[str]:
    values = {v for raw in request.args.getlist("expand") for v in raw.split(",") if v}
    if values - set(OVERRIDE_EXPANDS):
        raise Invalid([FieldError("expand", "invalid", "expand can be apps and/or customer.")])
    return values


def _override(e: overrides.Effective, expand: set[str]) -> CustomerOverride:
    return CustomerOverride.of(e, expand_apps="apps" in expand, expand_customer="customer" in expand)


def _override_id(customer_id: str) -> str:
    """What a customer's override is named by in its ETag and If-Match."""
    return f"{customer_id}/billing"


def _tagged_override(e: overrides.Effective, expand: set[str]):
    return tagged(_override(e, expand).response(), _override_id(e.customer.id), overrides.version(e.override))


@bp.get("/billing/customers/<customer_id>")
def get_override(customer_id: str):
    expand = _override_expand()
    return _tagged_override(overrides.get(customer_id), expand)


@bp.put("/billing/customers/<customer_id>")
@conditional
def upsert_override(customer_id: str):
    body = json_body()
    profile_id = parse(BillingProfileCustomerOverrideCreate, body if body is not None else {}).billing_profile_id
    customer = customer_rules.get(customer_id)  # If-Match names it by id, whichever way the path does
    billing = overrides.pin(customer.id, profile_id, expected_version=expected_version(_override_id(customer.id)))
    return _tagged_override(billing, set())


@bp.delete("/billing/customers/<customer_id>")
@conditional
def delete_override(customer_id: str):
    customer = customer_rules.get(customer_id)
    overrides.unpin(customer.id, expected_version=expected_version(_override_id(customer.id)))
    return Response(status=204)


@bp.get("/billing/customers")
def list_overrides():
    expand = _override_expand()
    order_by = query_choice("orderBy", OVERRIDE_ORDERINGS, "customerId")
    filters = listing.CustomerFilters(
        name=query_text("customerName"),
        key=query_text("customerKey"),
        primary_email=query_text("customerPrimaryEmail"),
    )
    profile_ids = [v for raw in query_texts("billingProfile") for v in raw.split(",") if v]
    page = listing.list_overrides(
        filters,
        customer_ids=query_texts("customerId"),
        profile_ids=profile_ids,
        without_pin=query_bool("customersWithoutPinnedProfile"),
        include_all=query_bool("includeAllCustomers", True),
        page=query_page(),
        page_size=query_int("pageSize", 100, 1, MAX_PAGE_SIZE),
        order_by=order_by.removeprefix("customer"),
        descending=query_choice("order", ("ASC", "DESC"), "ASC") == "DESC",
    )
    items = CustomerOverride.many(overrides.effective_many(page.items), "apps" in expand, "customer" in expand)
    return CustomerOverridePaginatedResponse.of(page, items).response()
