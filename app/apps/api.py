"""Installed apps and the marketplace as JSON, in the shapes of OpenMeter's v1 API: parse → rules → serialise."""

from flask import Blueprint, Response, jsonify, request

from app.apiutil import Reader, json_body, query_int, query_page, timestamp, without_nulls
from app.apps import rules
from app.apps.models import InstalledApp
from app.common import MAX_PAGE_SIZE
from app.etags import conditional, expected_version, if_match_versions, tagged
from app.problems import Invalid, NotFound

bp = Blueprint("apps_api", __name__, url_prefix="/api/v1")


def listing_json(listing: rules.Listing) -> dict:
    return {
        "type": listing.type,
        "name": listing.name,
        "description": listing.description,
        "capabilities": [
            {"type": c.type, "key": c.key, "name": c.name, "description": c.description} for c in listing.capabilities
        ],
        "installMethods": list(listing.install_methods),
    }


def app_json(app: InstalledApp) -> dict:
    """An app as OpenMeter shows it. The Stripe key itself never appears: only `maskedAPIKey`.

    OpenMeter also has `stripeAccountId`, which only Stripe can tell; this system never calls Stripe,
    so it is left out.
    """
    body = {
        "id": app.id,
        "type": app.type,
        "name": app.name,
        "description": app.description,
        "metadata": app.metadata_ or None,
        "status": app.status,
        "listing": listing_json(rules.LISTINGS[app.type]),
        "createdAt": timestamp(app.created_at),
        "updatedAt": timestamp(app.updated_at),
        "deletedAt": timestamp(app.deleted_at),
    }
    if app.type == "stripe":
        body |= {"livemode": app.stripe_livemode, "maskedAPIKey": app.masked_api_key}
    if app.type == "custom_invoicing":
        body |= {
            "enableDraftSyncHook": bool(app.enable_draft_sync_hook),
            "enableIssuingSyncHook": bool(app.enable_issuing_sync_hook),
        }
    return without_nulls(body)


def _page(page: int, page_size: int, total: int, items: list) -> dict:
    return {"totalCount": total, "page": page, "pageSize": page_size, "items": items}


@bp.get("/apps")
def list_apps():
    page = rules.list_apps(page=query_page(), page_size=query_int("pageSize", 100, 1, MAX_PAGE_SIZE))
    return jsonify(_page(page.page, page.page_size, page.total, [app_json(a) for a in page.items]))


@bp.get("/apps/<id>")
def get_app(id: str):
    app = rules.get(id)
    return tagged(jsonify(app_json(app)), app.id, app.version)


@bp.put("/apps/<id>")
@conditional
def replace_app(id: str):
    reader = Reader(json_body())
    data = rules.AppInput(
        type=reader.string("type", required=True) or "",
        name=reader.string("name", required=True) or "",
        description=reader.string("description"),
        metadata=reader.string_map("metadata"),
        secret_api_key=reader.string("secretAPIKey"),
        enable_draft_sync_hook=bool(reader.boolean("enableDraftSyncHook")),
        enable_issuing_sync_hook=bool(reader.boolean("enableIssuingSyncHook")),
    )
    if reader.errors:
        raise Invalid(reader.errors)
    app = rules.replace(id, data, expected_version=expected_version(id))
    return tagged(jsonify(app_json(app)), app.id, app.version)


@bp.delete("/apps/<id>")
@conditional
def uninstall_app(id: str):
    rules.uninstall(id, expected_version=expected_version(id))
    return Response(status=204)


@bp.get("/marketplace/listings")
def list_listings():
    page = query_page()
    page_size = query_int("pageSize", 100, 1, MAX_PAGE_SIZE)
    listings = list(rules.LISTINGS.values())
    shown = listings[(page - 1) * page_size : page * page_size]
    return jsonify(_page(page, page_size, len(listings), [listing_json(listing) for listing in shown]))


@bp.get("/marketplace/listings/<type>")
def get_listing(type: str):
    return jsonify(listing_json(rules.get_listing(type)))


def _install(app_type: str, with_api_key: bool):
    # The body is optional for a plain install: every field of it is.
    body = json_body() if with_api_key or request.get_data(cache=True).strip() else {}
    reader = Reader(body)
    name = reader.string("name")
    create_billing_profile = reader.boolean("createBillingProfile")
    api_key = reader.string("apiKey", required=True) if with_api_key else None
    if reader.errors:
        raise Invalid(reader.errors)
    app, default_for = rules.install(
        app_type,
        name=name,
        api_key=api_key,
        create_billing_profile=True if create_billing_profile is None else create_billing_profile,
    )
    return jsonify({"app": app_json(app), "defaultForCapabilityTypes": default_for})


@bp.post("/marketplace/listings/<type>/install")
def install_app(type: str):
    return _install(type, with_api_key=False)


@bp.post("/marketplace/listings/<type>/install/apikey")
def install_app_with_api_key(type: str):
    return _install(type, with_api_key=True)


# ---------------------------------------------------------------------------------------------
# Customer app data (SPEC §2)

from app.apps import customer_data  # noqa: E402
from app.apps.models import CustomerAppData  # noqa: E402
from app.customers import rules as customer_rules  # noqa: E402
from app.problems import FieldError  # noqa: E402


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


def app_data_json(row: CustomerAppData) -> dict:
    body = {"id": row.app_id, "type": row.type, "app": app_json(row.app)}
    if row.type == "stripe":
        body |= {
            "stripeCustomerId": row.stripe_customer_id,
            "stripeDefaultPaymentMethodId": row.stripe_default_payment_method_id,
        }
    if row.type == "custom_invoicing":
        body["metadata"] = row.metadata_ or None
    return without_nulls(body)


def _app_data_item(reader: Reader) -> customer_data.AppDataInput:
    item = customer_data.AppDataInput(
        type=reader.string("type", required=True),
        app_id=reader.string("id"),
        stripe_customer_id=reader.string("stripeCustomerId"),
        stripe_default_payment_method_id=reader.string("stripeDefaultPaymentMethodId"),
        metadata=reader.string_map("metadata"),
    )
    return item


@bp.get("/customers/<customer_id_or_key>/apps")
def list_customer_apps(customer_id_or_key: str):
    page = query_page()
    page_size = query_int("pageSize", 100, 1, MAX_PAGE_SIZE)
    app_type = request.args.get("type")
    if app_type is not None and app_type not in LISTING_TYPES:
        raise Invalid([FieldError("type", "invalid", f"type must be one of {', '.join(LISTING_TYPES)}.")])
    _, rows = customer_data.list_for(customer_id_or_key, app_type)
    shown = rows[(page - 1) * page_size : page * page_size]
    return jsonify(_page(page, page_size, len(rows), [app_data_json(r) for r in shown]))


LISTING_TYPES = tuple(rules.LISTINGS)


@bp.put("/customers/<customer_id_or_key>/apps")
@conditional
def upsert_customer_apps(customer_id_or_key: str):
    """If-Match, when given, names the version of each app's data that the items change (one ETag each)."""
    body = json_body()
    if not isinstance(body, list):
        raise Invalid([FieldError("body", "type", "The body must be an array of app data items.")])
    items, errors = [], []
    for i, obj in enumerate(body):
        reader = Reader(obj, f"[{i}]")
        items.append(_app_data_item(reader))
        errors += reader.errors
    if errors:
        raise Invalid(errors)
    customer = customer_rules.get(customer_id_or_key)  # If-Match names it by id, whichever way the path does
    rows = customer_data.upsert(customer.id, items, expected_versions=_expected_app_data_versions(customer.id))
    return jsonify([app_data_json(r) for r in rows])


@bp.delete("/customers/<customer_id_or_key>/apps/<app_id>")
@conditional
def delete_customer_app(customer_id_or_key: str, app_id: str):
    customer = customer_rules.get(customer_id_or_key)
    customer_data.delete(customer.id, app_id, expected_version=expected_version(_app_data_id(customer.id, app_id)))
    return Response(status=204)


def _stripe_json(row: CustomerAppData) -> dict:
    return without_nulls(
        {
            "id": row.app_id,
            "type": "stripe",
            "stripeCustomerId": row.stripe_customer_id,
            "stripeDefaultPaymentMethodId": row.stripe_default_payment_method_id,
            "app": app_json(row.app),
        }
    )


def _tagged_stripe(row: CustomerAppData):
    return tagged(jsonify(_stripe_json(row)), _app_data_id(row.customer_id, row.app_id), row.version)


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
    reader = Reader(json_body())
    item = customer_data.AppDataInput(
        type="stripe",
        stripe_customer_id=reader.string("stripeCustomerId", required=True),
        stripe_default_payment_method_id=reader.string("stripeDefaultPaymentMethodId"),
    )
    if reader.errors:
        raise Invalid(reader.errors)
    customer = customer_rules.get(customer_id_or_key)
    if not customer.is_deleted:
        item.app_id = customer_data.stripe_app_of(customer).id
    expected = _expected_app_data_versions(customer.id)
    rows = customer_data.upsert(customer.id, [item], indexed=False, expected_versions=expected)
    return _tagged_stripe(rows[0])
