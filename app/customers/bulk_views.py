"""Changing many customers at once in the console: choose the change, see its preview, give a
reason, run it, see what it did, undo it. The work is app/customers/bulk.py's, run as jobs (small
selections within the request, large ones by the worker)."""

from dataclasses import replace

from flask import Blueprint, current_app, flash, g, redirect, render_template, request, url_for
from werkzeug.datastructures import MultiDict

from app.billing import rules as billing_rules
from app.billing.models import BillingProfile
from app.customers import bulk
from app.customers import views as list_views
from app.customers.bulk import BulkChange, Selection
from app.customers.forms import typed_tag
from app.display import plural
from app.extensions import db
from app.jobs import rules as job_rules
from app.jobs import runner
from app.jobs.models import Job
from app.pages import page_or_fragment
from app.problems import FieldError, Invalid, NotFound

bp = Blueprint("bulk", __name__, url_prefix="/customers/bulk")

KINDS = ("bulk_preview", "bulk", "bulk_undo")
IDS_MAX = 1_000  # rows a list page can select (its largest page size)


def _job(job_id: str) -> Job:
    job = job_rules.get(job_id, g.operator.id, g.operator.role == "admin")
    if job.kind not in KINDS:
        raise NotFound(f'No bulk change has the id "{job_id}".')
    return job


def _selection(args: MultiDict) -> tuple[Selection, dict]:
    """The customers chosen on the list (its filters, and the rows ticked unless all are wanted),
    and the list's state, to go back to it."""
    state = list_views.list_state({p.id for p in billing_rules.live_profiles()}, args)
    ids = None if args.get("scope") == "all" else tuple(args.getlist("ids")[:IDS_MAX])
    return Selection(list_views.list_filters(state), ids), state


def _change(form: MultiDict) -> BulkChange:
    """The change the form asks for. Its fields are named change_…: the list's own filters (tag,
    meta_key…) travel in the same form."""
    action = form.get("action", "")
    return BulkChange(
        action=action,
        profile_id=form.get("change_profile") or None if action == "pin" else None,
        key=form.get("change_key", "").strip() if action.startswith("metadata_") else None,
        value=form.get("change_value", "") if action == "metadata_set" else None,
        tag=typed_tag(form.get("change_tag", "")) if action.startswith("tag_") else None,
    )


def _form_page(selection: Selection, state: dict, status: int = 200, errors=(), chosen=None):
    profiles = billing_rules.live_profiles()
    return render_template(
        "customers/bulk.html",
        selection=selection,
        count=selection.count(),
        described=list_views.described(state, profiles),
        hidden=_hidden_args(selection, state),
        back=list_views.list_url(state, page=1),
        profiles=profiles,
        actions=bulk.ACTIONS,
        errors={e.field: e.message for e in errors},
        chosen=chosen or MultiDict(),
    ), status


def _hidden_args(selection: Selection, state: dict) -> list[tuple[str, str]]:
    """The selection as form fields, to carry it from page to page."""
    args = list(list_views.export_args(state).items())
    if selection.ids is None:
        return [*args, ("scope", "all")]
    return args + [("ids", i) for i in selection.ids]


@bp.get("/")
def choose():
    selection, state = _selection(request.args)
    return _form_page(selection, state)


@bp.post("/")
def start_preview():
    """Check the change, then preview it: at once for a few customers, by the worker for many."""
    selection, state = _selection(request.form)
    change = _change(request.form)
    try:
        change.check()
    except Invalid as problem:
        errors = [replace(e, field=f"change_{e.field}" if e.field != "action" else e.field) for e in problem.errors]
        return _form_page(selection, state, 422, errors, request.form)
    count = selection.count()
    if count == 0:
        error = FieldError("scope", "empty", "No customer is selected: tick some rows of the list, or choose all.")
        return _form_page(selection, state, 422, [error], request.form)
    job = _start("bulk_preview", change, selection, count, f"Preview: {_title(change, count)}")
    return redirect(url_for("bulk.show", job_id=job.id), 303)


def _title(change: BulkChange, count: int) -> str:
    profile = db.session.get(BillingProfile, change.profile_id) if change.profile_id else None
    words = change.describe(profile.name if profile else None)
    return f"{words[0].upper()}{words[1:]} ({plural(count, 'customer')})"


def _start(kind: str, change: BulkChange, selection: Selection, count: int, title: str, **more) -> Job:
    params = {"change": change.to_json(), "selection": selection.to_json(), "expected": count, **more}
    return runner.launch(kind, title[:256], g.operator.id, params, inline=_few(count))


def _few(count: int) -> bool:
    """Whether a change of `count` customers is made within the request."""
    return count <= current_app.config["BULK_INLINE_CUSTOMERS"]


@bp.get("/<job_id>")
def show(job_id: str):
    job = _job(job_id)
    return page_or_fragment("customers/bulk_job.html", {"bulk": "customers/_bulk_job.html"}, **_view(job))


def _view(job: Job, errors=()) -> dict:
    change = BulkChange(**job.params["change"]) if "change" in job.params else None
    return {
        "job": job,
        "result": job.result or {},
        "change": change,
        "errors": {e.field: e.message for e in errors},
        "reason_max": bulk.REASON_MAX,
    }


@bp.post("/<job_id>/apply")
def apply(job_id: str):
    """Run a previewed change, for the reason given, while the selection is what was previewed."""
    preview = _job(job_id)
    if preview.kind != "bulk_preview" or preview.status != "succeeded":
        return render_template("customers/bulk_job.html", **_view(preview)), 409
    reason = request.form.get("reason", "").strip()
    if not reason or len(reason) > bulk.REASON_MAX:
        message = f"Say why, in at most {bulk.REASON_MAX} characters: it is kept in each customer's history."
        return render_template(
            "customers/bulk_job.html", **_view(preview, [FieldError("reason", "required", message)])
        ), 422
    change, selection = BulkChange(**preview.params["change"]), Selection.of_json(preview.params["selection"])
    count = selection.count()
    if count != preview.params["expected"]:
        again = _start("bulk_preview", change, selection, count, f"Preview: {_title(change, count)}")
        note = (
            f"The selection changed since the preview: it was {preview.params['expected']:,} customers, it is "
            f"{count:,} now. Here is the new preview; nothing was changed."
        )
        flash(note, "warning")
        return redirect(url_for("bulk.show", job_id=again.id), 303)
    job = _start("bulk", change, selection, count, _title(change, count), reason=reason, preview=preview.id)
    return redirect(url_for("bulk.show", job_id=job.id), 303)


@bp.post("/<job_id>/undo")
def undo(job_id: str):
    """Undo a finished bulk change, as a new batch."""
    done = _job(job_id)
    if done.kind != "bulk" or done.status != "succeeded":
        return render_template("customers/bulk_job.html", **_view(done)), 409
    params = {"batch": done.id, "expected": (done.result or {}).get("change", 0), "reason": f"Undo of “{done.title}”"}
    job = runner.launch(
        "bulk_undo", f"Undo: {done.title}"[:256], g.operator.id, params, inline=_few(params["expected"])
    )
    return redirect(url_for("bulk.show", job_id=job.id), 303)
