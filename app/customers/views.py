"""The customers console: full pages, or the partial htmx asked for. Rules live in rules.py."""

import re
from datetime import UTC, datetime, timedelta
from functools import cache, partial
from urllib.parse import parse_qsl, urlencode

from flask import Blueprint, abort, current_app, flash, g, redirect, render_template, request, url_for
from markupsafe import Markup
from sqlalchemy import bindparam, select

from app.apps import customer_data
from app.apps.models import CustomerAppData, InstalledApp
from app.billing import overrides
from app.billing import rules as billing_rules
from app.billing.models import BillingProfile
from app.billing.overrides_models import CustomerOverride
from app.customers import export, lifecycle, listing, rules, saved_views
from app.customers.attention import ATTENTION
from app.customers.forms import CustomerForm, InvoicingDataForm, StripeDataForm
from app.customers.models import Customer, CustomerSummary
from app.extensions import db
from app.formutil import refusing_with
from app.history.rules import for_entity
from app.jobs import rules as job_rules
from app.numbers import MAX_PAGE, whole_number
from app.pages import htmx_partial, page_or_fragment
from app.plans import rules as plan_rules
from app.plans.forms import SubscribeForm
from app.plans.models import Plan
from app.problems import Conflict, FieldError, Invalid, Problem, StaleEdit
from app.reference import countries, currencies
from app.text_rules import bad_characters

bp = Blueprint("customers", __name__, url_prefix="/customers")

NAV = ("customers.index", "Customers")

# Sorting through an allow-list: the query value → (rules ordering, descending).
SORTS = {
    "name": ("name", False),
    "-name": ("name", True),
    "key": ("key", False),
    "-key": ("key", True),
    "created": ("createdAt", False),
    "-created": ("createdAt", True),
}
# The list's columns after the name, which is always first, and the ones shown unless chosen.
COLUMNS = {
    "id": "Id",
    "key": "Key",
    "subjects": "Subjects",
    "tags": "Tags",
    "currency": "Currency",
    "plan": "Plan",
    "profile": "Billing profile",
    "email": "Email",
    "country": "Country",
    "stripe": "Stripe customer",
    "created": "Created",
    "updated": "Updated",
}
DEFAULT_COLUMNS = ("key", "subjects", "tags", "currency", "plan", "profile", "email", "created")
PAGE_SIZES = (20, 50, 100, 200)
DEFAULT_PAGE_SIZE = 50
# The list's filters beyond the first row of the toolbar ("More filters").
MORE_FILTER_ARGS = ("tag", "country", "meta_key", "created_from", "created_to", "stripe", "payment", "email")
# Query arguments that narrow the list (page, size, sort and columns only arrange it); the overview's
# "needs attention" links add attention=<code> (app/customers/attention.py).
FILTER_ARGS = ("q", "currency", "plan", "billing_profile", "subjects", "deleted", "attention", *MORE_FILTER_ARGS)
WITH_OR_WITHOUT = {"with": True, "without": False}
# How the metadata filter compares: a key equals a value, the key is present, or it is absent.
METADATA_OPS = {"is": "equals", "has": "is present", "lacks": "is absent"}


@cache
def currency_options(selected: str, in_use: tuple[str, ...]) -> Markup:
    """The <option>s of the currency filter: the currencies customers have first, then the rest;
    rendered once per choice instead of on every page."""
    known = currencies()

    def options(codes) -> Markup:
        return Markup("").join(
            Markup('<option value="{0}"{1}>{0} — {2}</option>').format(
                code, Markup(" selected") if code == selected else "", known[code].name
            )
            for code in codes
        )

    used = [code for code in in_use if code in known]
    rest = [code for code in known if code not in used]
    if not used:
        return options(rest)
    return Markup('<optgroup label="In use">{}</optgroup><optgroup label="Other currencies">{}</optgroup>').format(
        options(used), options(rest)
    )


def _int_arg(name: str, default: int, allowed=None, args=None) -> int:
    """A number from the query string; anything else (or one not `allowed`) is the default. It stops
    at MAX_PAGE, far past any list's end, which the list answers with its last page."""
    value = whole_number((request.args if args is None else args).get(name))
    if value is None or (allowed is not None and value not in allowed):
        return default
    return min(max(value, 1), MAX_PAGE)


def list_state(profile_ids=(), args=None) -> dict:
    """The list's whole state, read from the query string (so a URL can be shared), or from `args`
    (the bulk change's form carries it)."""
    args = request.args if args is None else args
    sort = args.get("sort", "name")
    profile = args.get("billing_profile", "")
    return {
        "q": args.get("q", "").strip(),
        "currency": args.get("currency", "") if args.get("currency", "") in currencies() else "",
        "plan": args.get("plan", ""),
        "billing_profile": profile if profile in profile_ids else "",
        "subjects": args.get("subjects", "") if args.get("subjects") in ("with", "without") else "",
        "deleted": "1" if args.get("deleted") == "1" else "",
        "attention": _choice_arg(args, "attention", ATTENTION),
        "tag": _text_arg(args, "tag"),
        "country": args.get("country", "") if args.get("country", "") in countries() else "",
        "meta_key": _text_arg(args, "meta_key"),
        "meta_op": args.get("meta_op", "") if args.get("meta_op") in METADATA_OPS else "",  # "": "is"
        "meta_value": _text_arg(args, "meta_value"),
        "created_from": _date_arg(args, "created_from"),
        "created_to": _date_arg(args, "created_to"),
        **{name: _choice_arg(args, name, WITH_OR_WITHOUT) for name in ("stripe", "payment", "email")},
        "sort": sort if sort in SORTS else "name",
        "cols": _columns_arg(args),
        "meta_cols": ",".join(_metadata_columns(args.get("meta_cols", ""))),
        "size": _int_arg("size", DEFAULT_PAGE_SIZE, PAGE_SIZES, args),
        "page": _int_arg("page", 1, args=args),
        "after": args.get("after", ""),
    }


def _columns_arg(args) -> str:
    """The chosen columns, in the list's order, as "key,email" (the form sends one `cols` per box
    ticked, a link one `cols` with commas); empty for the default columns."""
    chosen = {c for value in args.getlist("cols") for c in value.split(",")}
    if not chosen:
        return ""
    columns = ",".join(c for c in COLUMNS if c in chosen)
    return "" if columns == ",".join(DEFAULT_COLUMNS) else columns or "none"


def columns_of(state: dict) -> list[str]:
    return {"": list(DEFAULT_COLUMNS), "none": []}.get(state["cols"]) or state["cols"].split(",")


def _metadata_columns(text: str) -> list[str]:
    """Metadata keys to show as columns: at most five, each a possible key."""
    keys = [k.strip() for k in text.split(",") if k.strip() and not bad_characters(k)]
    return list(dict.fromkeys(k[:40] for k in keys))[:5]


def _text_arg(args, name: str) -> str:
    """A text argument; one with control characters is left out (it matches nothing anyone typed)."""
    value = args.get(name, "").strip()
    return "" if bad_characters(value) else value[:256]


def _choice_arg(args, name: str, choices) -> str:
    return args.get(name, "") if args.get(name) in choices else ""


def _date_arg(args, name: str) -> str:
    """A day as YYYY-MM-DD (what a date input sends); anything else is left out."""
    return args.get(name, "") if _day(args.get(name, "")) else ""


def _day(text: str) -> datetime | None:
    if not re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", text):  # ASCII digits only
        return None
    try:
        return datetime.strptime(text, "%Y-%m-%d").replace(tzinfo=UTC)
    except ValueError:
        return None


def list_filters(state: dict) -> listing.CustomerFilters:
    """The customers the list's state chooses (the list's and its export's)."""
    key, op = state["meta_key"], state["meta_op"] or "is"
    created_to = _day(state["created_to"])
    return listing.CustomerFilters(
        search=state["q"] or None,
        currency=state["currency"] or None,
        plan_key=state["plan"] or None,
        has_subjects=WITH_OR_WITHOUT.get(state["subjects"]),
        include_deleted=bool(state["deleted"]),
        billing_profile_id=state["billing_profile"] or None,
        tag=state["tag"] or None,
        country=state["country"] or None,
        metadata=((key, state["meta_value"] if op == "is" else None),) if key and op != "lacks" else (),
        metadata_absent=(key,) if key and op == "lacks" else (),
        created_from=_day(state["created_from"]),
        # The last day is included: the list stops where the day after starts (none after 9999-12-31).
        created_until=created_to + timedelta(days=1) if created_to and created_to.year < 9999 else None,
        has_stripe_customer=WITH_OR_WITHOUT.get(state["stripe"]),
        has_payment_method=WITH_OR_WITHOUT.get(state["payment"]),
        has_email=WITH_OR_WITHOUT.get(state["email"]),
        attention=state["attention"] or None,
    )


def list_url(state: dict, cursors: dict[int, str | None] | None = None, base: str | None = None, **changes) -> str:
    """The list URL for this state with some arguments changed; defaults are left out of it.

    A link to another page carries that page's cursor when there is one (so it is fetched by
    keyset, fast at any depth); any other change starts again without one. `base`, the list's
    own URL, saves asking the router again for each of a page's many links."""
    merged = {**state, **changes, "after": None}
    if "page" in changes and cursors:
        merged["after"] = cursors.get(changes["page"])
    defaults = {"sort": "name", "size": DEFAULT_PAGE_SIZE, "page": 1}
    args = {k: v for k, v in merged.items() if v not in ("", None) and defaults.get(k) != v}
    if base is None:
        return url_for("customers.index", **args)
    return f"{base}?{urlencode(args)}" if args else base


# Built once: what the list shows of each customer on a page (CustomerSummary's fields, in order),
# with its current plan and the profile that bills it, in one statement by the page's ids.
_LIST_ROWS = plan_rules.with_current_plan(
    overrides.with_billing(
        Customer.id,
        Customer.name,
        Customer.key,
        Customer.subjects_text,
        Customer.currency,
        Customer.primary_email,
        Customer.created_at,
        Customer.deleted_at,
        Plan.id,
        Plan.name,
        BillingProfile.name,
        CustomerOverride.billing_profile_id.is_not(None),
        Customer.tags,
        Customer.address_country,
        Customer.updated_at,
        Customer.metadata_,
    )
).where(Customer.id.in_(bindparam("ids", expanding=True)))


def _list_rows(ids: list[str]) -> dict[str, CustomerSummary]:
    return {row.id: CustomerSummary(*row) for row in db.session.execute(_LIST_ROWS, {"ids": ids})}


_STRIPE_IDS = (
    select(CustomerAppData.customer_id, CustomerAppData.stripe_customer_id)
    .where(CustomerAppData.customer_id.in_(bindparam("ids", expanding=True)), CustomerAppData.type == "stripe")
    .where(CustomerAppData.stripe_customer_id.is_not(None))
)


def _stripe_ids(rows) -> dict[str, str]:
    """The Stripe customer id of each customer of a page that has one (for its column)."""
    return dict(db.session.execute(_STRIPE_IDS, {"ids": [row.id for row in rows]}).all()) if rows else {}


def live_profile_ids() -> set[str]:
    return {p.id for p in billing_rules.live_profiles()}


def view_query(state: dict) -> str:
    """The list's state as URL arguments, as a saved view keeps it (no page: a view opens at its top)."""
    query = list_url(state, base="", page=1)
    return query.partition("?")[2]


def _dropped_filters(state: dict, plans) -> list[str]:
    """Filters of the URL (a saved view's, say) that name a billing profile or plan gone since:
    they are left out, and the list says so."""
    dropped = []
    if request.args.get("billing_profile") and not state["billing_profile"]:
        dropped.append("The billing profile this list was filtered by no longer exists; that filter is left out.")
    if state["plan"] and state["plan"] not in {p.key for p in plans}:
        dropped.append(f"No live plan has the key “{state['plan']}” any more; that filter is left out.")
        state["plan"] = ""
    return dropped


def _render_list(status: int = 200, lookup_key: str | None = None):
    """The list, or, for a search that names one customer exactly (its id, key or Stripe customer
    id) and was submitted (Enter, or the Search button: `go`), that customer's page. Live typing
    never jumps: it shows the exact match above the results instead."""
    text = lookup_key if lookup_key is not None else request.args.get("q", "").strip()
    exact = listing.exact_match(text) if text else None
    if exact is not None and (request.args.get("go") or lookup_key is not None):
        target = url_for(".show", customer_id=exact.id)
        if htmx_partial():  # a redirect would swap the customer page into the list
            return "", 200, {"HX-Redirect": target}
        return redirect(target, 303)
    # The live profiles, for the filter (one query).
    profiles = billing_rules.live_profiles()
    state = list_state({p.id for p in profiles}) | {"q": text}
    order_by, descending = SORTS[state["sort"]]
    plans = plan_rules.live_plans()
    dropped = _dropped_filters(state, plans)
    filters = list_filters(state)
    page = listing.list_customers(
        filters, state["page"], state["size"], order_by, descending, state["after"] or None, load=_list_rows
    )
    if not page.items and page.total and state["page"] > page.pages:
        # A page past the end (after deletes, or an edited URL): show the last page instead.
        return redirect(list_url(state, page=page.pages), 303)
    context = {
        "page": page,
        "state": state,
        "filtered": any(state[k] for k in FILTER_ARGS),
        "list_url": partial(list_url, state, page.cursors, url_for("customers.index")),
        "sorts": SORTS,
        "page_sizes": PAGE_SIZES,
        # Read when the whole page is drawn: the results alone have no filters.
        "currency_options": lambda selected: currency_options(selected, listing.currencies_in_use()),
        "plans": plans,
        "profiles": profiles,
        "countries": countries(),
        "attention": ATTENTION,
        "metadata_ops": METADATA_OPS,
        "more_filtered": any(state[k] for k in MORE_FILTER_ARGS),
        "default_profile": next((p for p in profiles if p.is_default), None),
        "exact": exact,
        "export_url": url_for("customers.export_list", **export_args(state)),
        "bulk_args": export_args(state),
        "columns": columns_of(state),
        "column_labels": COLUMNS,
        "metadata_columns": [k for k in state["meta_cols"].split(",") if k],
        "stripe_ids": _stripe_ids(page.items) if "stripe" in columns_of(state) else {},
        "did_you_mean": listing.did_you_mean(state["q"]) if state["q"] and exact is None else [],
        "lookup_key": lookup_key,
    }
    context |= {
        "view_query": view_query(state),
        "view_fields": parse_qsl(view_query(state)),
        "saved_views": saved_views.visible(g.operator.id),
        "dropped": dropped,
    }
    response = page_or_fragment("customers/list.html", {"results": "customers/_results.html"}, status, **context)
    if htmx_partial() and "go" in request.args:
        # The address bar shows the list's URL without `go`: a Back or a reload must not jump.
        kept = urlencode([(k, v) for k, v in request.args.items(multi=True) if k != "go"])
        response.headers["HX-Push-Url"] = url_for(".index") + (f"?{kept}" if kept else "")
    return response


@bp.get("/")
def index():
    """The list; opened without arguments, on the default saved view if an admin chose one."""
    if not request.args and (view := saved_views.default()) is not None and view.query:
        return redirect(f"{url_for('.index')}?{view.query}")
    return _render_list()


@bp.get("/lookup")
def lookup():
    """Open the live customer whose key (or id, or Stripe customer id) is exactly the one typed,
    or say that none has it, with the search's results for it."""
    key = request.args.get("key", "")
    return _render_list(status=404 if key else 200, lookup_key=key)


@bp.get("/check")
def check():
    """Live check of a key, a subject key or the primary email while it is typed, by the rules a
    save applies: the value's form, then who else holds a key, and whether this form lists a subject
    key twice. htmx sends every subject row of the form (hx-include) and names the one typed in
    (HX-Trigger-Name)."""
    customer_id = request.args.get("customer_id") or None
    if "key" in request.args:
        value, ok = request.args["key"], "No other customer has this key."
        errors = rules.check_key(value or None) or rules.find_conflicts(value or None, [], customer_id)
    elif "primary_email" in request.args:
        value, ok = request.args["primary_email"].strip(), "A valid email address."
        errors = rules.check_email(value) if value else []
    else:
        subjects = {k: v for k, v in request.args.items() if k.startswith("subject_keys-")}
        name = request.headers.get("HX-Trigger-Name")
        name = name if name in subjects else next(iter(subjects), None)
        if name is None:
            abort(400)
        value, ok, errors = subjects[name], "No other customer has this subject key.", []
        if value:
            # This row last: of two equal subject keys, the rule names the later one.
            listed = [v for k, v in subjects.items() if k != name and v.strip()] + [value]
            this_row = f"usageAttribution.subjectKeys[{len(listed) - 1}]"
            errors = [e for e in rules.check_subject_keys(listed) if e.field == this_row]
            errors = errors or rules.find_conflicts(None, [value], customer_id)
    # A fragment whoever asks; it varies as the form's other answers do.
    return page_or_fragment("customers/_check.html", value=value, errors=errors, ok=ok)


def _render_form(form: CustomerForm, customer=None, status: int = 200, stale_current=None):
    fragments = {}
    if changed_rows := getattr(form, "changed_rows", None):  # a row added or removed: its fieldset
        fieldset = f"customers/_{'subjects' if changed_rows == 'subject' else 'metadata'}.html"
        fragments = {"subjects-fieldset": fieldset, "metadata-fieldset": fieldset}
    return page_or_fragment(
        "customers/form.html",
        fragments,
        status,
        form=form,
        customer=customer,
        stale_current=stale_current,
        currency_lock=getattr(form, "currency_lock", None),
    )


def _lock_currency(form: CustomerForm, customer) -> None:
    """While a subscription is active the currency cannot change: show the field locked, saying why.

    A disabled field is not posted, so the customer's own currency stands in for it.
    """
    subscription = plan_rules.active_subscription(customer.id)
    if subscription is not None:
        form.currency.data = customer.currency
        form.currency.render_kw = {**(form.currency.render_kw or {}), "disabled": True}
        form.currency_lock = subscription


def _handle_post(form: CustomerForm, save, customer=None):
    """The shared POST path of create and edit: row buttons, then save the customer and its
    billing profile choice through the rules, in one transaction."""
    action = request.form.get("action", "save")
    form.changed_rows = form.apply_row_action(action)
    if form.changed_rows:
        return _render_form(form, customer)
    if customer is not None and form.missing_version():  # an edit without it would save blindly
        return _render_form(form, customer, 400)
    try:
        with refusing_with(form.own_errors()):  # a metadata key typed twice shows with every other error
            saved = lifecycle.save_with_billing(
                lambda: save(form), form.billing_profile.data or None, form.expected_billing_version
            )
    except StaleEdit as problem:  # the customer or its billing choice changed since the form was read
        if customer is None:  # a new customer has no choice to lose: only a race could say so
            form.show_problem(problem)
            return _render_form(form, customer, 409)
        current = rules.get(customer.id)
        # Saving again, after seeing theirs, is deliberate: the form takes the versions read now.
        form.billing_version.data = str(overrides.version(overrides.effective(current).override))
        if str(current.version) == form.version.data:  # only the billing choice changed: say so beside it
            form.show_problem(Invalid([FieldError("billingProfileId", "stale", problem.detail)]))
            return _render_form(form, customer, 409)
        form.version.data = str(current.version)
        form.form_errors_extra.append(problem)
        return _render_form(form, customer, 409, stale_current=current)
    except Problem as problem:
        form.show_problem(problem)
        return _render_form(form, customer, 422)
    if action == "save_add":
        flash(f"Customer “{saved.name}” saved. Add another one below.", "success")
        return redirect(url_for(".create"), 303)
    flash(f"Customer “{saved.name}” saved.", "success")
    return redirect(url_for(".show", customer_id=saved.id), 303)


@bp.route("/new", methods=["GET", "POST"])
def create():
    form = CustomerForm()
    if request.method == "POST":
        return _handle_post(form, lambda f: rules.create(f.to_input()))
    return _render_form(form)


@bp.get("/<customer_id>")
def show(customer_id: str):
    billing = overrides.get(customer_id)
    return _render_show(billing.customer, billing=billing)


def _render_show(customer, editors: dict | None = None, status: int = 200, billing=None):
    """The customer page; `editors` replaces some apps' editors (one posted with errors), and
    `billing` is the customer's effective billing when the caller has it already."""
    subscriptions = plan_rules.history(customer.id)
    subscribe_form = None
    if not customer.is_deleted:  # the plans it may subscribe to, or change to (none: the page says so)
        current = next((s for s in subscriptions if s.is_active), None)
        plans = plan_rules.live_plans()
        subscribe_form = SubscribeForm(customer=customer, plans=plans, current_plan=current and current.plan)
    html = render_template(
        "customers/show.html",
        customer=customer,
        currencies=currencies(),
        countries=countries(),
        subscriptions=subscriptions,
        subscribe_form=subscribe_form,
        changes=for_entity("customer", customer.id),
        billing=billing or overrides.effective(customer),
        app_editors=_app_editors(customer, editors or {}),
    )
    return html, status


# --- Customer app data: one editor per installed app on the customer page -------------------

EDITOR_FORMS = {"stripe": StripeDataForm, "custom_invoicing": InvoicingDataForm}


# Built once: building a statement and its cache key costs as much as running it.
_APPS_WITH_DATA = (
    select(InstalledApp, CustomerAppData)
    .outerjoin(
        CustomerAppData,
        (CustomerAppData.app_id == InstalledApp.id) & (CustomerAppData.customer_id == bindparam("customer_id")),
    )
    .where(InstalledApp.deleted_at.is_(None))
    .order_by(InstalledApp.created_at, InstalledApp.id)
)


def _app_editors(customer, editors: dict) -> list[dict]:
    """For each installed app: the app, the customer's data in it, and its editor's form (one query)."""
    found = []
    for app, row in db.session.execute(_APPS_WITH_DATA, {"customer_id": customer.id}):
        editor = editors.get(app.id) or {}
        form_class = EDITOR_FORMS.get(app.type)
        form = editor.get("form") or (form_class.for_row(app.id, row) if form_class else None)
        found.append(
            {
                "app": app,
                "row": row,
                "form": form,
                "message": editor.get("message"),
                "confirm_clear": editor.get("confirm_clear"),
            }
        )
    return found


@bp.post("/<customer_id>/apps/<app_id>")
def save_app_data(customer_id: str, app_id: str):
    """Save (or, for Stripe, clear, once confirmed) one app's data of a customer, or add or remove a
    metadata row.

    htmx gets the app's section back: saved with a message, or with the errors in place and what
    was typed kept (422; 409 for a Stripe customer id another customer has, or data someone else
    changed since the page was read; 400 without the version it was read at). Without JavaScript:
    POST-redirect-GET with a flash, or the whole page with the errors.
    """
    customer = rules.get(customer_id)
    app = db.session.get(InstalledApp, app_id)
    if app is None or app.is_deleted or app.type not in EDITOR_FORMS:
        abort(404)
    if customer.is_deleted:
        flash("This customer is deleted: its app data cannot change.", "error")
        return redirect(url_for(".show", customer_id=customer.id), 303)
    form = EDITOR_FORMS[app.type](prefix=f"app-{app.id}")
    action = request.form.get("action", "save")
    htmx = bool(request.htmx)
    status, message, confirm_clear = 200, None, False
    if isinstance(form, InvoicingDataForm) and form.apply_row_action(action):
        pass  # only the rows changed: nothing is saved yet
    elif action == "clear" and request.form.get("confirmed") != "1":
        confirm_clear = True  # the section asks first; its button posts again, confirmed
    elif form.missing_version():
        status = 400
    else:
        try:
            if action == "clear":
                customer_data.delete(customer.id, app.id, expected_version=form.expected_version)
                message = f"{app.name} data removed."
            else:
                expected = {app.id: form.expected_version}
                with refusing_with(form.own_errors()):
                    customer_data.upsert(
                        customer.id, [form.to_input(app.id)], indexed=False, expected_versions=expected
                    )
                message = f"{app.name} data saved."
        except StaleEdit as problem:
            form.show_problem(problem)
            # Saving again, having been told, is deliberate.
            form.version.data = str(customer_data.version(db.session.get(CustomerAppData, (customer.id, app.id))))
            status = 409
        except Problem as problem:
            form.show_problem(problem)
            status = 409 if isinstance(problem, Conflict) else 422
        else:
            if not htmx:
                flash(message, "success")
                return redirect(url_for(".show", customer_id=customer.id, _anchor=f"app-{app.id}"), 303)
            form = None  # the section shows what is saved now
    if not htmx:
        return _render_show(customer, {app.id: {"form": form, "confirm_clear": confirm_clear}}, status)
    editors = {app.id: {"form": form, "message": message, "confirm_clear": confirm_clear}}
    editor = next(e for e in _app_editors(customer, editors) if e["app"].id == app.id)
    return render_template("customers/_app_data.html", customer=customer, editor=editor), status


@bp.route("/<customer_id>/edit", methods=["GET", "POST"])
def edit(customer_id: str):
    customer = rules.get(customer_id)
    if customer.is_deleted:
        flash("This customer is deleted and cannot be edited.", "error")
        return redirect(url_for(".show", customer_id=customer.id), 303)
    if request.method == "POST":
        form = CustomerForm()
        _lock_currency(form, customer)
        return _handle_post(
            form, lambda f: lifecycle.replace(customer.id, f.to_input(), expected_version=f.expected_version), customer
        )
    effective = overrides.effective(customer)
    form = CustomerForm.for_customer(
        customer,
        effective.override.billing_profile_id if effective.pinned else None,
        overrides.version(effective.override),
    )
    _lock_currency(form, customer)
    return _render_form(form, customer)


@bp.route("/<customer_id>/delete", methods=["GET", "POST"])
def delete(customer_id: str):
    customer = rules.get(customer_id)
    if customer.is_deleted:
        flash("This customer is already deleted.", "error")
        return redirect(url_for(".show", customer_id=customer.id), 303)
    status, refusal = 200, None
    if request.method == "POST":
        try:
            lifecycle.delete(customer.id)
        except Conflict as problem:  # it has an active subscription: the page says so
            status, refusal = problem.status, problem
        else:
            freed = [v for v in [customer.key, *customer.subject_keys] if v]
            message = f"Customer “{customer.name}” deleted."
            if freed:
                message += " Free for reuse now: " + ", ".join(dict.fromkeys(freed)) + "."
            flash(message, "success")
            return redirect(url_for(".index"), 303)
    subscription = plan_rules.active_subscription(customer.id)
    html = render_template("customers/delete.html", customer=customer, subscription=subscription, refusal=refusal)
    return html, status


# --- Export ------------------------------------------------------------------------------------

# The list's arguments that choose its customers and their order (the export takes all of them).
_EXPORT_ARGS = (*FILTER_ARGS, "meta_op", "meta_value", "sort")


def export_args(state: dict) -> dict:
    """The list's arguments that the export of what it shows takes (defaults left out)."""
    return {
        name: state[name] for name in _EXPORT_ARGS if state[name] and not (name == "sort" and state[name] == "name")
    }


def described(state: dict, profiles) -> list[str]:
    """The list's search and filters in words, for the export page."""
    names = {p.id: p.name for p in profiles}
    described = [f"search “{state['q']}”"] if state["q"] else []
    described += [f"currency {state['currency']}"] if state["currency"] else []
    described += [f"plan {state['plan']}"] if state["plan"] else []
    described += [f"billed by {names[state['billing_profile']]}"] if state["billing_profile"] else []
    described += [f"{state['subjects']} subject keys"] if state["subjects"] else []
    described += ["deleted customers included"] if state["deleted"] else []
    described += [ATTENTION[state["attention"]][0].lower()] if state["attention"] else []
    described += [f"tagged {state['tag']}"] if state["tag"] else []
    described += [f"in {countries()[state['country']].name}"] if state["country"] else []
    if state["meta_key"]:
        op = state["meta_op"] or "is"
        value = f" “{state['meta_value']}”" if op == "is" else ""
        described.append(f"metadata “{state['meta_key']}” {METADATA_OPS[op]}{value}")
    described += [f"created from {state['created_from']}"] if state["created_from"] else []
    described += [f"created until {state['created_to']}"] if state["created_to"] else []
    for name, what in (("stripe", "a Stripe customer"), ("payment", "a payment method"), ("email", "an email")):
        described += [f"{state[name]} {what}"] if state[name] else []
    return described


@bp.route("/export", methods=["GET", "POST"])
def export_list():
    """Export the list as it is on screen: small exports download at once, large ones run as a job."""
    profiles = billing_rules.live_profiles()
    state = list_state({p.id for p in profiles})
    filters = list_filters(state)
    order_by, descending = SORTS[state["sort"]]
    chosen = {"format": request.form.get("format", "csv"), "metadata_keys": request.form.get("metadata_keys", "")}
    errors: list[str] = []
    if request.method == "POST":
        file_format = chosen["format"] if chosen["format"] in export.FORMATS else "csv"
        typed = [key.strip() for key in chosen["metadata_keys"].split(",") if key.strip()]
        try:
            wanted = export.Export(filters, order_by, descending, export.metadata_keys(typed, "metadata_keys"))
        except Invalid as problem:
            errors = [error.message for error in problem.errors]
        else:
            matches = export.count(wanted)
            if matches <= current_app.config["EXPORT_INLINE_ROWS"]:
                return export.download(wanted, file_format)
            title = f"Export of {matches:,} customers ({'CSV' if file_format == 'csv' else 'JSON Lines'})"
            job = job_rules.start("export", title, g.operator.id, export.to_params(wanted, file_format))
            return redirect(url_for("jobs.show", job_id=job.id), 303)
    context = {
        "matches": listing.count_matching(filters),
        "inline_rows": current_app.config["EXPORT_INLINE_ROWS"],
        "described": described(state, profiles),
        "list_args": export_args(state),
        "back": list_url(state, page=1),
        "chosen": chosen,
        "errors": errors,
    }
    return render_template("customers/export.html", **context), 422 if errors else 200
