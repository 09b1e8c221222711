"""Installed apps and the marketplace as JSON, in the shapes of OpenMeter's v1 API: parse → rules → serialise."""

from flask import Blueprint, Response, jsonify, request

from app.apiutil import Reader, json_body, query_int, timestamp, without_nulls
from app.apps import rules
from app.apps.models import InstalledApp
from app.problems import Invalid

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
    page = rules.list_apps(
        page=query_int("page", 1, 1, rules.MAX_PAGE), page_size=query_int("pageSize", 100, 1, rules.MAX_PAGE_SIZE)
    )
    return jsonify(_page(page.page, page.page_size, page.total, [app_json(a) for a in page.items]))


@bp.get("/apps/<id>")
def get_app(id: str):
    return jsonify(app_json(rules.get(id)))


@bp.put("/apps/<id>")
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
    return jsonify(app_json(rules.replace(id, data)))


@bp.delete("/apps/<id>")
def uninstall_app(id: str):
    rules.uninstall(id)
    return Response(status=204)


@bp.get("/marketplace/listings")
def list_listings():
    page = query_int("page", 1, 1, rules.MAX_PAGE)
    page_size = query_int("pageSize", 100, 1, rules.MAX_PAGE_SIZE)
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
