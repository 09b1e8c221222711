"""The customers console: full pages, or the partial htmx asked for. Rules live in rules.py."""

from flask import Blueprint, abort, flash, make_response, redirect, render_template, request, url_for

from app.customers import rules
from app.customers.forms import CustomerForm
from app.history.rules import for_entity
from app.problems import Problem, StaleEdit
from app.reference import countries, currencies

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
PAGE_SIZES = (20, 50, 100, 200)
DEFAULT_PAGE_SIZE = 50
# Query arguments that narrow the list (page, size and sort only arrange it).
FILTER_ARGS = ("q", "currency", "subjects", "deleted")


def _htmx_target() -> str | None:
    """The id of the element htmx will swap, or None for a full page (also when htmx restores history)."""
    if request.headers.get("HX-Request") != "true" or request.headers.get("HX-History-Restore-Request"):
        return None
    return request.headers.get("HX-Target")


def _vary(html: str, status: int = 200):
    """A response for a page that answers htmx with a partial: caches must keep the two apart."""
    response = make_response(html, status)
    response.vary.add("HX-Request")
    response.vary.add("HX-Target")
    return response


def _int_arg(name: str, default: int, allowed=None) -> int:
    try:
        value = int(request.args.get(name, default))
    except ValueError:
        return default
    if allowed is not None and value not in allowed:
        return default
    return max(value, 1)


def _list_state() -> dict:
    """The list's whole state, read from the query string (so a URL can be shared)."""
    sort = request.args.get("sort", "name")
    return {
        "q": request.args.get("q", "").strip(),
        "currency": request.args.get("currency", "") if request.args.get("currency", "") in currencies() else "",
        "subjects": request.args.get("subjects", "") if request.args.get("subjects") in ("with", "without") else "",
        "deleted": "1" if request.args.get("deleted") == "1" else "",
        "sort": sort if sort in SORTS else "name",
        "size": _int_arg("size", DEFAULT_PAGE_SIZE, PAGE_SIZES),
        "page": _int_arg("page", 1),
    }


def _list_url(state: dict, **changes) -> str:
    """The list URL for this state with some arguments changed; defaults are left out of it."""
    merged = {**state, **changes}
    defaults = {"sort": "name", "size": DEFAULT_PAGE_SIZE, "page": 1}
    args = {k: v for k, v in merged.items() if v not in ("", None) and defaults.get(k) != v}
    return url_for("customers.index", **args)


def _render_list(status: int = 200, lookup_key: str | None = None, lookup_missed: bool = False):
    state = _list_state()
    order_by, descending = SORTS[state["sort"]]
    filters = rules.CustomerFilters(
        search=state["q"] or None,
        currency=state["currency"] or None,
        has_subjects={"with": True, "without": False}.get(state["subjects"]),
        include_deleted=bool(state["deleted"]),
    )
    page = rules.list_customers(filters, state["page"], state["size"], order_by, descending)
    if not page.items and page.total and state["page"] > page.pages:
        # A page past the end (after deletes, or an edited URL): show the last page instead.
        return redirect(_list_url(state, page=page.pages), 303)
    context = {
        "page": page,
        "state": state,
        "filtered": any(state[k] for k in FILTER_ARGS),
        "list_url": lambda **changes: _list_url(state, **changes),
        "sorts": SORTS,
        "page_sizes": PAGE_SIZES,
        "currencies": currencies(),
        "lookup_key": lookup_key,
        "lookup_missed": lookup_missed,
    }
    template = "customers/_results.html" if _htmx_target() == "results" else "customers/list.html"
    return _vary(render_template(template, **context), status)


@bp.get("/")
def index():
    return _render_list()


@bp.get("/lookup")
def lookup():
    """Open the live customer whose key is exactly the one typed, or say that none has it."""
    key = request.args.get("key", "")
    customer = rules.find_by_key(key) if key else None
    if customer is not None:
        return redirect(url_for(".show", customer_id=customer.id), 303)
    return _render_list(status=404 if key else 200, lookup_key=key, lookup_missed=bool(key))


@bp.get("/check")
def check():
    """Live check of a key or subject key while it is typed: its form, then who holds it."""
    customer_id = request.args.get("customer_id") or None
    if "key" in request.args:
        value, field_label = request.args["key"], "key"
        errors = rules.check_key(value or None) or rules.find_conflicts(value or None, [], customer_id)
    else:
        name = next((k for k in request.args if k.startswith("subject_keys-")), None)
        if name is None:
            abort(400)
        value, field_label = request.args[name], "subject key"
        errors = rules.check_subject_keys([value]) or rules.find_conflicts(None, [value], customer_id) if value else []
    return _vary(render_template("customers/_check.html", value=value, errors=errors, field_label=field_label))


def _render_form(form: CustomerForm, customer=None, status: int = 200, stale_current=None):
    changed_rows = getattr(form, "changed_rows", None)
    if changed_rows and _htmx_target() in ("subjects-fieldset", "metadata-fieldset"):
        template = f"customers/_{'subjects' if changed_rows == 'subject' else 'metadata'}.html"
    else:
        template = "customers/form.html"
    html = render_template(template, form=form, customer=customer, stale_current=stale_current)
    return _vary(html, status)


def _handle_post(form: CustomerForm, save, customer=None):
    """The shared POST path of create and edit: row buttons, then save through the rules."""
    action = request.form.get("action", "save")
    form.changed_rows = form.apply_row_action(action)
    if form.changed_rows:
        return _render_form(form, customer)
    try:
        saved = save(form)
    except StaleEdit as problem:
        current = rules.get(customer.id)
        form.version.data = str(current.version)  # saving again, after seeing theirs, is deliberate
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
    customer = rules.get(customer_id)
    return render_template(
        "customers/show.html",
        customer=customer,
        currencies=currencies(),
        countries=countries(),
        changes=for_entity("customer", customer.id),
    )


@bp.route("/<customer_id>/edit", methods=["GET", "POST"])
def edit(customer_id: str):
    customer = rules.get(customer_id)
    if customer.is_deleted:
        flash("This customer is deleted and cannot be edited.", "error")
        return redirect(url_for(".show", customer_id=customer.id), 303)
    if request.method == "POST":
        form = CustomerForm()
        return _handle_post(
            form, lambda f: rules.replace(customer.id, f.to_input(), expected_version=f.expected_version), customer
        )
    return _render_form(CustomerForm.for_customer(customer), customer)


@bp.route("/<customer_id>/delete", methods=["GET", "POST"])
def delete(customer_id: str):
    customer = rules.get(customer_id)
    if customer.is_deleted:
        flash("This customer is already deleted.", "error")
        return redirect(url_for(".show", customer_id=customer.id), 303)
    if request.method == "POST":
        rules.delete(customer.id)
        freed = [v for v in [customer.key, *customer.subject_keys] if v]
        message = f"Customer “{customer.name}” deleted."
        if freed:
            message += " Free for reuse now: " + ", ".join(dict.fromkeys(freed)) + "."
        flash(message, "success")
        return redirect(url_for(".index"), 303)
    return render_template("customers/delete.html", customer=customer)
