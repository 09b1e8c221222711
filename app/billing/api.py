"""Billing profiles as JSON, in the shapes of OpenMeter's v1 API: parse → rules → serialise."""

from flask import Blueprint, Response, jsonify, request, url_for

from app.apiutil import (
    Reader,
    created,
    json_body,
    query_bool,
    query_choice,
    query_int,
    query_page,
    query_text,
    query_texts,
    timestamp,
    without_nulls,
)
from app.apps.api import app_json
from app.billing import rules
from app.billing.models import BillingProfile
from app.common import ADDRESS_FIELDS, MAX_PAGE_SIZE, Address
from app.etags import conditional, expected_version, tagged
from app.problems import FieldError, Invalid

bp = Blueprint("billing_api", __name__, url_prefix="/api/v1")


def profile_json(profile: BillingProfile, expand_apps: bool = False) -> dict:
    address = without_nulls({api: getattr(profile, f"supplier_{attr}") for attr, api in ADDRESS_FIELDS.items()})
    alignment = {"type": profile.collection_alignment}
    if profile.collection_alignment == "anchored":
        alignment["recurringPeriod"] = {
            "interval": profile.collection_period_interval,
            "anchor": timestamp(profile.collection_period_anchor),
        }
    invoicing = {
        "autoAdvance": profile.invoicing_auto_advance,
        "draftPeriod": profile.invoicing_draft_period,
        "dueAfter": profile.invoicing_due_after,
        "progressiveBilling": profile.invoicing_progressive_billing,
    }
    if profile.invoicing_tax_behavior:
        invoicing["defaultTaxConfig"] = {"behavior": profile.invoicing_tax_behavior}
    # SPEC §3: one app plays all three roles.
    app = app_json(profile.app) if expand_apps else {"id": profile.app_id}
    return without_nulls(
        {
            "id": profile.id,
            "name": profile.name,
            "description": profile.description,
            "metadata": profile.metadata_ or None,
            "default": profile.is_default,
            "supplier": without_nulls(
                {
                    "name": profile.supplier_name,
                    "taxId": {"code": profile.supplier_tax_code} if profile.supplier_tax_code else None,
                    "addresses": [address],
                }
            ),
            "workflow": {
                "collection": {"alignment": alignment, "interval": profile.collection_interval},
                "invoicing": invoicing,
                "payment": {"collectionMethod": profile.payment_collection_method},
                "tax": {"enabled": profile.tax_enabled, "enforced": profile.tax_enforced},
            },
            "apps": {role: app for role in rules.APP_ROLES},
            "createdAt": timestamp(profile.created_at),
            "updatedAt": timestamp(profile.updated_at),
            "deletedAt": timestamp(profile.deleted_at),
        }
    )


def _supplier(reader: Reader) -> rules.Supplier:
    supplier = rules.Supplier()
    s = reader.object("supplier")
    if s is None:
        return supplier
    supplier.name = s.string("name")
    tax_id = s.object("taxId")
    if tax_id is not None:
        supplier.tax_code = tax_id.string("code")
        s.errors += tax_id.errors
    for a in s.object_list("addresses"):
        supplier.addresses.append(Address(**{attr: a.string(api) for attr, api in ADDRESS_FIELDS.items()}))
        s.errors += a.errors
    reader.errors += s.errors
    return supplier


def _workflow(reader: Reader) -> rules.Workflow:
    """The workflow as given; what is left out keeps its default (SPEC §3)."""
    given: dict = {}
    w = reader.object("workflow")
    if w is None:
        return rules.Workflow()
    if (c := w.object("collection")) is not None:
        if (a := c.object("alignment")) is not None:
            given["alignment"] = a.string("type", required=True)
            if (period := a.object("recurringPeriod")) is not None:
                given["period_interval"] = period.string("interval")
                given["period_anchor"] = period.string("anchor")
                a.errors += period.errors
            c.errors += a.errors
        given["collection_interval"] = c.string("interval")
        w.errors += c.errors
    if (i := w.object("invoicing")) is not None:
        given["auto_advance"] = i.boolean("autoAdvance")
        given["draft_period"] = i.string("draftPeriod")
        given["due_after"] = i.string("dueAfter")
        given["progressive_billing"] = i.boolean("progressiveBilling")
        if (tax_config := i.object("defaultTaxConfig")) is not None:
            given["tax_behavior"] = tax_config.string("behavior")
            i.errors += tax_config.errors
        w.errors += i.errors
    if (p := w.object("payment")) is not None:
        given["collection_method"] = p.string("collectionMethod")
        w.errors += p.errors
    if (t := w.object("tax")) is not None:
        given["tax_enabled"] = t.boolean("enabled")
        given["tax_enforced"] = t.boolean("enforced")
        w.errors += t.errors
    reader.errors += w.errors
    return rules.Workflow(**{k: v for k, v in given.items() if v is not None})


def _apps(reader: Reader) -> rules.AppIds | None:
    """App ids by role. Besides OpenMeter's create shape (`"tax": "<id>"`) this takes the shapes GET
    answers with (`"tax": {"id": "<id>", …}`), so a profile read, edited and PUT back works."""
    a = reader.object("apps")
    if a is None:
        return None
    ids = rules.AppIds()
    for role in rules.APP_ROLES:
        value = a.obj.get(role)
        if isinstance(value, dict):
            value = value.get("id")
        if value is not None and not isinstance(value, str):
            reader.errors.append(FieldError(f"apps.{role}", "type", f"apps.{role} must be an app id."))
            value = None
        setattr(ids, role, value)
    return ids


def profile_input(body) -> rules.ProfileInput:
    """A ProfileInput from a request body; type errors are reported with their JSON path."""
    reader = Reader(body)
    data = rules.ProfileInput(
        name=reader.string("name", required=True) or "",
        description=reader.string("description"),
        metadata=reader.string_map("metadata"),
        default=bool(reader.boolean("default")),
        supplier=_supplier(reader),
        workflow=_workflow(reader),
        apps=_apps(reader),
    )
    if reader.errors:
        raise Invalid(reader.errors)
    return data


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
    return jsonify(
        {
            "totalCount": page.total,
            "page": page.page,
            "pageSize": page.page_size,
            "items": [profile_json(p, expand) for p in page.items],
        }
    )


@bp.post("/billing/profiles")
def create_profile():
    profile = rules.create(profile_input(json_body()))
    response = created(profile_json(profile), url_for(".get_profile", id=profile.id))
    return tagged(response, profile.id, profile.version)


@bp.get("/billing/profiles/<id>")
def get_profile(id: str):
    expand = _expand_apps()
    profile = rules.get(id)
    return tagged(jsonify(profile_json(profile, expand)), profile.id, profile.version)


@bp.put("/billing/profiles/<id>")
@conditional
def replace_profile(id: str):
    # Not read here first: the rule reads the profile only once the default changes queue (see there).
    profile = rules.replace(id, profile_input(json_body()), expected_version=expected_version(id))
    return tagged(jsonify(profile_json(profile)), profile.id, profile.version)


@bp.delete("/billing/profiles/<id>")
@conditional
def delete_profile(id: str):
    rules.delete(id, expected_version=expected_version(id))
    return Response(status=204)


# ---------------------------------------------------------------------------------------------
# Customer overrides (SPEC §3)

from app.billing import overrides  # noqa: E402
from app.customers import listing  # noqa: E402
from app.customers import rules as customer_rules  # noqa: E402
from app.customers.schemas import Customer  # noqa: E402

OVERRIDE_EXPANDS = ("apps", "customer")
OVERRIDE_ORDERINGS = ("customerId", "customerName", "customerKey", "customerPrimaryEmail", "customerCreatedAt")


def _override_expand() -> set[str]:
    values = {v for raw in request.args.getlist("expand") for v in raw.split(",") if v}
    if values - set(OVERRIDE_EXPANDS):
        raise Invalid([FieldError("expand", "invalid", "expand can be apps and/or customer.")])
    return values


def override_json(e: overrides.Effective, expand: set[str]) -> dict:
    body: dict = {"baseBillingProfileId": e.profile.id if e.profile else None}
    if e.override is not None:
        body["customerOverride"] = without_nulls(
            {
                "customerId": e.customer.id,
                "billingProfileId": e.override.billing_profile_id,
                "createdAt": timestamp(e.override.created_at),
                "updatedAt": timestamp(e.override.updated_at),
            }
        )
    if e.profile is not None:
        profile = profile_json(e.profile, "apps" in expand)
        body["customerProfile"] = {k: profile[k] for k in ("supplier", "workflow", "apps")}
    if "customer" in expand:
        body["customer"] = Customer.of(e.customer).as_json()
    return without_nulls(body)


def _override_id(customer_id: str) -> str:
    """What a customer's override is named by in its ETag and If-Match."""
    return f"{customer_id}/billing"


def _tagged_override(response, e: overrides.Effective):
    return tagged(response, _override_id(e.customer.id), overrides.version(e.override))


@bp.get("/billing/customers/<customer_id>")
def get_override(customer_id: str):
    expand = _override_expand()
    billing = overrides.get(customer_id)
    return _tagged_override(jsonify(override_json(billing, expand)), billing)


@bp.put("/billing/customers/<customer_id>")
@conditional
def upsert_override(customer_id: str):
    body = json_body()
    reader = Reader(body if body is not None else {})
    profile_id = reader.string("billingProfileId")
    if reader.errors:
        raise Invalid(reader.errors)
    customer = customer_rules.get(customer_id)  # If-Match names it by id, whichever way the path does
    billing = overrides.pin(customer.id, profile_id, expected_version=expected_version(_override_id(customer.id)))
    return _tagged_override(jsonify(override_json(billing, set())), billing)


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
    return jsonify(
        {
            "totalCount": page.total,
            "page": page.page,
            "pageSize": page.page_size,
            "items": [override_json(e, expand) for e in overrides.effective_many(page.items)],
        }
    )
