"""Importing customers in the console: upload a file, see what it would do (a check that writes
nothing), map its columns, then import it. The work is app/customers/importing.py's, run as jobs
(app/jobs/runner.py): a small file is checked within the request, anything larger by the worker."""

from flask import Blueprint, current_app, g, redirect, render_template, request, url_for
from werkzeug.exceptions import RequestEntityTooLarge

from app.customers import importing
from app.display import size
from app.jobs import rules as job_rules
from app.jobs import runner
from app.jobs.models import Job
from app.pages import page_or_fragment
from app.problems import NotFound

bp = Blueprint("imports", __name__, url_prefix="/customers/import")

UPLOAD_CHUNK = 256 * 1024
KINDS = ("import_check", "import")


def _job(job_id: str) -> Job:
    job = job_rules.get(job_id, g.operator.id, g.operator.role == "admin")
    if job.kind not in KINDS:
        raise NotFound(f'No import has the id "{job_id}".')
    return job


@bp.get("/")
def upload():
    return render_template("customers/import.html", error=None)


@bp.errorhandler(RequestEntityTooLarge)
def too_large(_error):
    limit = current_app.config["IMPORT_MAX_BYTES"]
    sent = f" ({size(request.content_length)})" if request.content_length else ""
    error = (
        f"The file{sent} is larger than the {size(limit)} an import reads, so none of it was kept. "
        "Split it into smaller files and import each."
    )
    return render_template("customers/import.html", error=error), 413


@bp.post("/")
def start_check():
    """Keep the uploaded file, and check it: at once when small, by the worker when not."""
    file = request.files.get("file")
    if file is None or not file.filename:
        return render_template("customers/import.html", error="Choose a file to import."), 422
    name = "".join(ch for ch in file.filename.rsplit("/", 1)[-1] if ch.isprintable())[:100] or "file"
    chunks = iter(lambda: file.stream.read(UPLOAD_CHUNK), b"")
    small = (request.content_length or 0) <= current_app.config["IMPORT_INLINE_BYTES"]
    params = {"fileName": name, "mapping": None}  # no "file": the upload's own
    job = runner.launch("import_check", f"Check of {name}", g.operator.id, params, chunks, inline=small)
    return redirect(url_for("imports.show", job_id=job.id), 303)


@bp.get("/<job_id>")
def show(job_id: str):
    job = _job(job_id)
    return page_or_fragment("customers/import_job.html", {"import": "customers/_import_job.html"}, **_view(job))


def _view(job: Job, mapping_errors: list[str] | None = None) -> dict:
    result = job.result or {}
    layout = importing.layout_of(result["layout"]) if "layout" in result else None
    return {
        "job": job,
        "result": result,
        "layout": layout,
        "choices": _choices(layout, result.get("mapping")) if layout else [],
        "mapping_errors": mapping_errors or result.get("problems") or [],
        "atomic_rows": current_app.config["IMPORT_ATOMIC_ROWS"],
    }


def _choices(layout: importing.Layout, mapping: list[str | None]) -> list[dict]:
    """Each column with what it can be imported as, and what it is now."""
    fields = [(target, label) for target, label in importing.LABELS.items()]
    columns = []
    for index, header in enumerate(layout.headers):
        chosen = mapping[index] if index < len(mapping) else None
        own_key = f"{importing.METADATA_PREFIX}{header}"
        options = [("", "Not imported"), *fields]
        if header and importing.is_metadata_key(header):
            options.append((own_key, f'Metadata key "{header}"'))
        if chosen and chosen.startswith(importing.METADATA_PREFIX) and chosen != own_key:
            options.append((chosen, importing.label(chosen)))
        samples = [row[index] for row in layout.samples if index < len(row) and row[index]]
        read_only = header in importing.READ_ONLY
        columns.append(
            {
                "index": index,
                "header": header,
                "chosen": chosen or "",
                "options": options,
                "samples": samples,
                "read_only": read_only,
            }
        )
    return columns


@bp.post("/<job_id>/mapping")
def remap(job_id: str):
    """Check the same file again, with its columns imported as the operator chose."""
    job = _job(job_id)
    if "layout" not in (job.result or {}):  # a file that could not be read has no columns to map
        return render_template("customers/import_job.html", **_view(job)), 409
    layout = importing.layout_of(job.result["layout"])
    mapping = [request.form.get(f"column-{i}") or None for i in range(len(layout.headers))]
    problems = importing.mapping_problems(layout.headers, mapping)
    if problems:
        job.result = {**job.result, "mapping": mapping}  # shown as chosen; not saved
        return render_template("customers/import_job.html", **_view(job, problems)), 422
    params = {**job.params, "file": runner.file_of(job), "mapping": mapping}
    small = job_rules.input_size(params["file"]) <= current_app.config["IMPORT_INLINE_BYTES"]
    name = job.params["fileName"]
    again = runner.launch("import_check", f"Check of {name}", g.operator.id, params, inline=small)
    return redirect(url_for("imports.show", job_id=again.id), 303)


@bp.post("/<job_id>/apply")
def apply(job_id: str):
    """Import the file as the check `job_id` read it: by the worker, since it writes."""
    check = _job(job_id)
    result = check.result or {}
    if check.kind != "import_check" or check.status != "succeeded" or result.get("problems"):
        return render_template("customers/import_job.html", **_view(check)), 409
    counts = result["counts"]
    if counts["error"]:
        return render_template("customers/import_job.html", **_view(check)), 409
    params = {
        "file": runner.file_of(check),
        "fileName": check.params["fileName"],
        "mapping": result["mapping"],
        "rows": result["rows"],
        "check": check.id,
    }
    title = f"Import of {check.params['fileName']}"
    job = job_rules.start("import", title, g.operator.id, params)
    return redirect(url_for("imports.show", job_id=job.id), 303)
