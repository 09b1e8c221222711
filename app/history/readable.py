"""The change history as a person reads it: labels instead of API paths, names instead of ids,
values formatted (money, durations, times, lists, metadata key by key), "—" for nothing.

The history keeps what changed as data (field paths of the API and JSON values, see `record`);
this module turns a page of it into `Shown` changes, looking up every id the page names (apps,
billing profiles, plans, customers, subscriptions, operators, tokens) in one query. An id whose row
is gone reads "<id> (deleted)". No value is ever written as a Python repr: each kind of value has
its own text, and anything unknown is spelled out by `_text`.
"""

import re
from dataclasses import dataclass, field
from datetime import datetime

from markupsafe import Markup
from sqlalchemy import String, cast, false, literal, select, union_all

from app import display
from app.extensions import db
from app.history.models import Change
from app.reference import countries

# What each kind of object is called; the activity page filters on these too.
KINDS = {
    "customer": "Customer",
    "subscription": "Subscription",
    "billing_profile": "Billing profile",
    "plan": "Plan",
    "app": "App",
    "operator": "Operator",
    "api_token": "API token",
}

# What an action is called. Subscriptions have their own words: a change of plan ends one
# subscription and starts the next, and reads as one step.
ACTIONS = {
    "create": "Created",
    "update": "Changed",
    "delete": "Deleted",
    "restore": "Restored",
    "subscribe": "Subscribed",
    "change_plan": "Changed plan",
    "cancel": "Cancelled",
}


@dataclass(frozen=True)
class Field:
    label: str
    kind: str = "text"  # text, map, list, time, duration, cadence, money, country, enum, secret, ref:<kind>
    yes_no: tuple[str, str] = ("yes", "no")
    empty: str = display.EMPTY


_ADDRESS = {
    "country": Field("Country", "country"),
    "postalCode": Field("Postal code"),
    "state": Field("State or region"),
    "city": Field("City"),
    "line1": Field("Line 1"),
    "line2": Field("Line 2"),
    "phoneNumber": Field("Phone number"),
}
_DELETED = Field("Deleted at", "time")
_COMMON = {
    "name": Field("Name"),
    "key": Field("Key"),
    "description": Field("Description"),
    "metadata": Field("Metadata", "map"),
    "deletedAt": _DELETED,
}

# Each kind's fields by the path `record` stored them under (the API's names).
FIELDS: dict[str, dict[str, Field]] = {
    "customer": {
        **_COMMON,
        "primaryEmail": Field("Primary email"),
        "currency": Field("Currency"),
        **{f"billingAddress.{k}": Field(f"Billing address · {f.label}", f.kind) for k, f in _ADDRESS.items()},
        "usageAttribution.subjectKeys": Field("Subject keys", "list"),
        "tags": Field("Tags", "list"),
        "billingProfileId": Field("Billing profile", "ref:billing_profile", empty="the default profile"),
    },
    "billing_profile": {
        **_COMMON,
        "default": Field("Default profile"),
        "supplier.name": Field("Supplier · Name"),
        "supplier.taxId.code": Field("Supplier · Tax id"),
        **{f"supplier.addresses[0].{k}": Field(f"Supplier address · {f.label}", f.kind) for k, f in _ADDRESS.items()},
        "workflow.collection.alignment.type": Field("Collection · Alignment", "enum"),
        "workflow.collection.alignment.recurringPeriod.interval": Field("Collection · Anchored period", "cadence"),
        "workflow.collection.alignment.recurringPeriod.anchor": Field("Collection · Anchor", "time"),
        "workflow.collection.interval": Field("Collection · Interval", "duration"),
        "workflow.invoicing.autoAdvance": Field("Invoicing · Advance automatically"),
        "workflow.invoicing.draftPeriod": Field("Invoicing · Draft period", "duration"),
        "workflow.invoicing.dueAfter": Field("Invoicing · Due after", "duration"),
        "workflow.invoicing.progressiveBilling": Field("Invoicing · Progressive billing"),
        "workflow.invoicing.defaultTaxConfig.behavior": Field("Invoicing · Default tax behavior", "enum"),
        "workflow.payment.collectionMethod": Field("Payment · Collection method", "enum"),
        "workflow.tax.enabled": Field("Tax · Calculate tax"),
        "workflow.tax.enforced": Field("Tax · Enforce tax"),
        "apps": Field("App", "ref:app"),
    },
    "app": {
        **_COMMON,
        "type": Field("Type", "enum"),
        "status": Field("Status", "enum"),
        "maskedAPIKey": Field("API key"),
        "livemode": Field("Mode", yes_no=("live", "test")),
        "enableDraftSyncHook": Field("Draft sync hook", yes_no=("on", "off")),
        "enableIssuingSyncHook": Field("Issuing sync hook", yes_no=("on", "off")),
    },
    "plan": {
        **_COMMON,
        "currency": Field("Currency"),
        "price": Field("Price", "money"),
        "billingCadence": Field("Billing cadence", "cadence"),
    },
    "subscription": {
        "plan": Field("Plan", "ref:plan", empty="no plan"),
    },
    "operator": {
        "username": Field("Username"),
        "role": Field("Role", "enum"),
        "active": Field("May log in"),
        "password": Field("Password", "secret"),
    },
    "api_token": {
        "name": Field("Name"),
        "role": Field("Role", "enum"),
        "prefix": Field("Prefix"),
        "revoked": Field("Revoked"),
    },
}

# A customer's data in one installed app, recorded as "apps.<app id>": {type, stripeCustomerId, …}.
_APP_DATA = re.compile(r"apps\.([0-9A-Za-z]{1,64})")
APP_DATA_FIELDS = {
    "stripeCustomerId": Field("Stripe customer id"),
    "stripeDefaultPaymentMethodId": Field("Default payment method id"),
    "metadata": Field("Metadata", "map"),
}
# Words for the values of the enumerations the history holds, where the raw value reads badly.
ENUM_WORDS = {
    "charge_automatically": "Charge automatically",
    "send_invoice": "Send invoice",
    "custom_invoicing": "Custom invoicing",
    "DAY": "daily",
    "WEEK": "weekly",
    "MONTH": "monthly",
    "YEAR": "yearly",
}
# What the operator rules write for a password (never the password itself).
SECRET_WORDS = {"(set)": "set", "(old)": "the old one", "(changed)": "changed"}


def _words(path: str) -> str:
    """An unknown field path in words: "usageAttribution.subjectKeys" → "Usage attribution · Subject keys"."""
    parts = [re.sub(r"\[[0-9]+\]", "", p) for p in path.split(".") if p]
    words = [re.sub(r"(?<=[a-z0-9])(?=[A-Z])", " ", p).replace("_", " ").strip().lower() for p in parts]
    return " · ".join(w[:1].upper() + w[1:] for w in words if w) or path


# ---------------------------------------------------------------------------------------------
# Names: every id a page of changes mentions, looked up at once


@dataclass(frozen=True)
class Named:
    name: str
    deleted: bool = False  # soft-deleted: still there, and named
    gone: bool = False  # no such row any more: `name` is its id, "(deleted)"


class Names:
    """(kind, id) → Named, for the ids one page of changes mentions; one query for all of them."""

    def __init__(self, found: dict[tuple[str, str], Named] | None = None):
        self.found = found or {}

    @classmethod
    def lookup(cls, wanted: dict[str, set[str]]) -> "Names":
        from app.apps.models import InstalledApp
        from app.auth.models import ApiToken, Operator
        from app.billing.models import BillingProfile
        from app.customers.models import Customer
        from app.plans.models import Plan, Subscription

        def soft(kind, model, name_column):
            return select(
                _kind(kind),
                model.id.label("id"),
                name_column.label("name"),
                model.deleted_at.is_not(None).label("deleted"),
            ).where(model.id.in_(sorted(wanted[kind])))

        def kept(kind, model, name_column):
            return select(_kind(kind), model.id.label("id"), name_column.label("name"), false().label("deleted")).where(
                model.id.in_(sorted(wanted[kind]))
            )

        parts = {
            "app": lambda: soft("app", InstalledApp, InstalledApp.name),
            "billing_profile": lambda: soft("billing_profile", BillingProfile, BillingProfile.name),
            "plan": lambda: soft("plan", Plan, Plan.name),
            "customer": lambda: soft("customer", Customer, Customer.name),
            "operator": lambda: kept("operator", Operator, Operator.username),
            "api_token": lambda: kept("api_token", ApiToken, ApiToken.name),
            # A subscription reads as its customer and plan: "Acme on Pro".
            "subscription": lambda: (
                kept("subscription", Subscription, Customer.name + " on " + Plan.name)
                .select_from(Subscription)
                .join(Customer, Customer.id == Subscription.customer_id)
                .join(Plan, Plan.id == Subscription.plan_id)
            ),
        }
        selects = [make() for kind, make in parts.items() if wanted.get(kind)]
        if not selects:
            return cls()
        rows = db.session.execute(union_all(*selects) if len(selects) > 1 else selects[0]).all()
        return cls({(r.kind, r.id): Named(r.name, bool(r.deleted)) for r in rows})

    def get(self, kind: str, object_id: str) -> Named:
        return self.found.get((kind, object_id)) or Named(f"{object_id} (deleted)", deleted=True, gone=True)


def _kind(kind: str):
    # Typed, so that PostgreSQL knows the column's type across the UNION.
    return cast(literal(kind), String).label("kind")


def _wanted(changes: list[Change]) -> dict[str, set[str]]:
    wanted: dict[str, set[str]] = {kind: set() for kind in KINDS}
    for change in changes:
        wanted.setdefault(change.entity_type, set()).add(change.entity_id)
        fields = FIELDS.get(change.entity_type, {})
        for c in change.changes or []:
            path = c.get("field", "")
            if match := _APP_DATA.fullmatch(path):
                wanted["app"].add(match.group(1))
            kind = fields[path].kind if path in fields else ""
            if kind.startswith("ref:"):
                wanted[kind[4:]] |= {v for v in (c.get("before"), c.get("after")) if isinstance(v, str) and v}
    return wanted


# ---------------------------------------------------------------------------------------------
# Values


def _text(value) -> str:
    """Any JSON value as words, never a repr: lists joined, maps as "key = value" pairs."""
    if value is True:
        return "yes"
    if value is False:
        return "no"
    if isinstance(value, list | tuple):
        return ", ".join(_text(v) for v in value)
    if isinstance(value, dict):
        return "; ".join(f"{k} = {_text(v)}" for k, v in sorted(value.items()))
    return str(value)


@dataclass
class Value:
    """One side of a change: text (escaped when shown), a time (Markup), or chips (a list)."""

    text: str | Markup | None = None
    chips: list[str] | None = None


def _value(value, spec: Field, names: Names) -> Value:
    if display.is_empty(value):
        return Value(None if spec.empty == display.EMPTY else spec.empty)
    kind = spec.kind
    if isinstance(value, bool):
        return Value(spec.yes_no[0] if value else spec.yes_no[1])
    if kind == "list" or (isinstance(value, list) and kind == "text"):
        return Value(chips=[_text(v) for v in value]) if isinstance(value, list) else Value(_text(value))
    if kind.startswith("ref:") and isinstance(value, str):
        return Value(names.get(kind[4:], value).name)
    if kind == "time":
        return Value(display.when(value))
    if kind == "duration":
        return Value(display.duration(value))
    if kind == "cadence":
        return Value(ENUM_WORDS.get(value) or display.cadence(value))
    if kind == "money" and isinstance(value, dict):
        return Value(display.money(value.get("amount"), value.get("currency")))
    if kind == "country" and isinstance(value, str) and value in countries():
        return Value(countries()[value].name)
    if kind == "enum" and isinstance(value, str):
        return Value(ENUM_WORDS.get(value) or value.replace("_", " ").capitalize())
    if kind == "secret":
        return Value(SECRET_WORDS.get(value, "changed"))
    return Value(_text(value))


@dataclass
class Entry:
    """One key of a map (metadata) that a change added, changed or removed."""

    key: str
    state: str  # added | changed | removed
    before: str | None
    after: str | None


@dataclass
class Line:
    """One field of a change: its label, and either its two values or, for a map, its keys."""

    label: str
    before: Value
    after: Value
    entries: list[Entry] | None = None
    only_after: bool = False  # a creation: there was nothing before


def _entries(before, after) -> list[Entry]:
    before = before if isinstance(before, dict) else {}
    after = after if isinstance(after, dict) else {}
    entries = []
    for key in sorted({*before, *after}):
        if key not in before:
            entries.append(Entry(key, "added", None, _text(after[key])))
        elif key not in after:
            entries.append(Entry(key, "removed", _text(before[key]), None))
        elif before[key] != after[key]:
            entries.append(Entry(key, "changed", _text(before[key]), _text(after[key])))
    return entries


def _line(label: str, spec: Field, before, after, names: Names, creating: bool) -> Line | None:
    """One field's line; None where there is nothing to read: a field a creation left empty, or one
    that went from one kind of nothing to another (None to "", {} to None)."""
    if display.is_empty(before) and display.is_empty(after):
        return None
    if spec.kind == "map":
        entries = _entries(before, after)
        return Line(label, Value(), Value(), entries=entries, only_after=creating) if entries or not creating else None
    shown_after = _value(after, spec, names)
    if creating and display.is_empty(after):
        return None
    # A secret is never shown, only that it was set or changed.
    return Line(label, _value(before, spec, names), shown_after, only_after=creating or spec.kind == "secret")


def lines(change: Change, names: Names) -> list[Line]:
    """The fields of one change, in words."""
    fields = FIELDS.get(change.entity_type, {})
    creating = change.action in ("create", "subscribe")
    only_after = creating or change.action == "delete"  # a delete says when; there was nothing before
    shown = []
    for c in change.changes or []:
        path, before, after = c.get("field", ""), c.get("before"), c.get("after")
        if match := _APP_DATA.fullmatch(path):  # a customer's data in one app: one line per part
            app_name = names.get("app", match.group(1)).name
            before, after = (v if isinstance(v, dict) else {} for v in (before, after))
            for key in dict.fromkeys([*before, *after]):
                if key == "type" or before.get(key) == after.get(key):
                    continue  # the app's name says its type
                spec = APP_DATA_FIELDS.get(key, Field(_words(key)))
                shown.append(
                    _line(f"{app_name} · {spec.label}", spec, before.get(key), after.get(key), names, only_after)
                )
            continue
        spec = fields.get(path) or Field(_words(path))
        shown.append(_line(spec.label, spec, before, after, names, only_after))
    return [line for line in shown if line is not None]


# ---------------------------------------------------------------------------------------------
# A page of changes


@dataclass
class Shown:
    """A change ready to show: who, when, what (by name), the action in words, and its lines."""

    at: datetime
    actor_type: str
    actor_name: str
    entity_type: str
    entity_id: str
    action: str  # in words: "Created", "Changed plan"
    action_code: str  # as recorded: "create", "change_plan"
    kind: str  # "Customer", "Billing profile"
    subject: Named
    lines: list[Line] = field(default_factory=list)
    changes: list = field(default_factory=list)  # as recorded
    job_id: str | None = None  # the background job (an import, a bulk change) that made it
    reason: str | None = None  # the operator's, for a bulk change


def show(changes: list[Change]) -> list[Shown]:
    """A page of changes in words, with every id it names looked up in one query."""
    names = Names.lookup(_wanted(changes)) if changes else Names()
    return [
        Shown(
            at=c.at,
            actor_type=c.actor_type,
            actor_name=c.actor_name,
            entity_type=c.entity_type,
            entity_id=c.entity_id,
            action=ACTIONS.get(c.action, c.action.replace("_", " ").capitalize()),
            action_code=c.action,
            kind=KINDS.get(c.entity_type, _words(c.entity_type)),
            subject=names.get(c.entity_type, c.entity_id),
            lines=lines(c, names),
            changes=list(c.changes or []),
            job_id=c.job_id,
            reason=c.reason,
        )
        for c in changes
    ]
