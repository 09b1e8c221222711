"""Installed apps and the marketplace as JSON, in the shapes of OpenMeter's v1 API: parse → rules → serialise."""

from flask import Blueprint, Response, request

from app.apiutil import json_body, query_int, query_page
from app.apps import customer_data, rules
from app.apps.models import CustomerAppData
from app.apps.schemas import (
    LISTINGS,
    AppPaginatedResponse,
    AppReplaceUpdate,
    CustomerAppDataInputList,
    CustomerAppDataList,
    CustomerAppDataPaginatedResponse,
    MarketplaceApiKeyInstallRequestPayload,
    MarketplaceInstallRequestPayload,
    MarketplaceInstallResponse,
    MarketplaceListingPaginatedResponse,
    StripeCustomerAppData,
    StripeCustomerAppDataBase,
    app_of,
    customer_app_data_of,
)
from app.common import MAX_PAGE_SIZE, Page
from app.customers import rules as customer_rules
from app.etags import conditional, expected_version, if_match_versions, tagged
from app.problems import FieldError, Invalid, NotFound
from app.schemas import parse

bp = Blueprint("apps_api", __name__, url_prefix="/api/v1")


@bp.get("/apps")
def list_apps():
    page = rules.list_apps(page=query_page(), page_size=query_int("pageSize", 100, 1, MAX_PAGE_SIZE))
    return AppPaginatedResponse.of(page, [app_of(a) for a in page.items]).response()


@bp.get("/apps/<id>")
def get_app(id: str):
    app = rules.get(id)
    return tagged(app_of(app).response(), app.id, app.version)


@bp.put("/apps/<id>")
@conditional
def replace_app(id: str):
    data = parse(AppReplaceUpdate, json_body()).to_input()
    app = rules.replace(id, data, expected_version=expected_version(id))
    return tagged(app_of(app).response(), app.id, app.version)


@bp.delete("/apps/<id>")
@conditional
def uninstall_app(id: str):
    rules.uninstall(id, expected_version=expected_version(id))
    return Response(status=204)


@bp.get("/marketplace/listings")
def list_listings():
    page, page_size = query_page(), query_int("pageSize", 100, 1, MAX_PAGE_SIZE)
    return MarketplaceListingPaginatedResponse.page_of_all(page, page_size).response()


@bp.get("/marketplace/listings/<type>")
def get_listing(type: str):
    return LISTINGS[rules.get_listing(type).type].response()


def _install(app_type: str, with_api_key: bool):
    # The body is optional for a plain install: every field of it is.
    if with_api_key:
        payload = parse(MarketplaceApiKeyInstallRequestPayload, json_body())
        api_key = payload.api_key
    else:
        body = json_body() if request.get_data(cache=True).strip() else {}
        payload, api_key = parse(MarketplaceInstallRequestPayload, body), None
    app, default_for = rules.install(
        app_type,
        name=payload.name,
        api_key=api_key,
        create_billing_profile=payload.create_billing_profile is not False,  # null: the default, true
    )
    return MarketplaceInstallResponse(app=app_of(app), default_for_capability_types=default_for).response()


@bp.post("/marketplace/listings/<type>/install")
def install_app(type: str):
    return _install(type, with_api_key=False)


@bp.post("/marketplace/listings/<type>/install/apikey")
def install_app_with_api_key(type: str):
    return _install(type, with_api_key=True)


# ---------------------------------------------------------------------------------------------
# Customer app data (SPEC §2)


LISTING_TYPES = tuple(rules.LISTINGS)


def _app_data_id(customer_id: str, app_id: str) -> str:
    """What a customer's data in one app is named by in its ETag and If-Match."""
    return f"{customer_id}/apps/{app_id}"


def _expected_app_data_versions(customer_id: str) -> dict[str, int] | None:
    """By app id, the version of this customer's data in each app that If-Match names; None: any."""
    versions = if_match_versions()
    if versions is None:
        return None
    prefix = _app_data_id(customer_id, "")
    return {thing.removeprefix(prefix): version for thing, version in versions.items() if thing.startswith(prefix)}


@bp.get("/customers/<customer_id_or_key>/apps")
def list_customer_apps(customer_id_or_key: str):
    page = query_page()
    page_size = query_int("pageSize", 100, 1, MAX_PAGE_SIZE)
    app_type = request.args.get("type")
    if app_type is not None and app_type not in LISTING_TYPES:
        raise Invalid([FieldError("type", "invalid", f"type must be one of {', '.join(LISTING_TYPES)}.")])
    _, rows = customer_data.list_for(customer_id_or_key, app_type)
    shown = rows[(page - 1) * page_size : page * page_size]
    items = [customer_app_data_of(r) for r in shown]
    return CustomerAppDataPaginatedResponse.of(Page(shown, len(rows), page, page_size), items).response()


@bp.put("/customers/<customer_id_or_key>/apps")
@conditional
def upsert_customer_apps(customer_id_or_key: str):
    """If-Match, when given, names the version of each app's data that the items change (one ETag each)."""
    items = parse(CustomerAppDataInputList, json_body()).to_input()
    customer = customer_rules.get(customer_id_or_key)  # If-Match names it by id, whichever way the path does
    rows = customer_data.upsert(customer.id, items, expected_versions=_expected_app_data_versions(customer.id))
    body = CustomerAppDataList([customer_app_data_of(r) for r in rows]).model_dump_json(
        by_alias=True, exclude_none=True
    )
    return Response(body, mimetype="application/json")


@bp.delete("/customers/<customer_id_or_key>/apps/<app_id>")
@conditional
def delete_customer_app(customer_id_or_key: str, app_id: str):
    customer = customer_rules.get(customer_id_or_key)
    customer_data.delete(customer.id, app_id, expected_version=expected_version(_app_data_id(customer.id, app_id)))
    return Response(status=204)


def _tagged_stripe(row: CustomerAppData):
    return tagged(StripeCustomerAppData.of(row).response(), _app_data_id(row.customer_id, row.app_id), row.version)


@bp.get("/customers/<customer_id_or_key>/stripe")
def get_customer_stripe(customer_id_or_key: str):
    customer = customer_rules.get(customer_id_or_key)
    app = customer_data.stripe_app_of(customer)
    row = next((r for r in customer_data.list_for(customer.id, "stripe")[1] if r.app_id == app.id), None)
    if row is None:
        raise NotFound(f'Customer "{customer.name}" has no Stripe customer id in app "{app.name}" yet.')
    return _tagged_stripe(row)


@bp.put("/customers/<customer_id_or_key>/stripe")
@conditional
def upsert_customer_stripe(customer_id_or_key: str):
    data = parse(StripeCustomerAppDataBase, json_body())
    customer = customer_rules.get(customer_id_or_key)
    item = data.to_input(app_id=None if customer.is_deleted else customer_data.stripe_app_of(customer).id)
    expected = _expected_app_data_versions(customer.id)
    rows = customer_data.upsert(customer.id, [item], indexed=False, expected_versions=expected)
    return _tagged_stripe(rows[0])
