"""The Jobs page: an operator's background jobs, each with its progress and then its file or its error."""

from flask import Blueprint, Response, g, redirect, stream_with_context, url_for

from app.jobs import rules
from app.pages import page_or_fragment

bp = Blueprint("jobs", __name__, url_prefix="/jobs")

NAV = ("jobs.index", "Jobs")
# The kinds of job with a page of their own, which shows what they found or did.
PAGES = {
    "import_check": "imports.show",
    "import": "imports.show",
    "bulk_preview": "bulk.show",
    "bulk": "bulk.show",
    "bulk_undo": "bulk.show",
}


def _viewer() -> tuple[str, bool]:
    return g.operator.id, g.operator.role == "admin"


@bp.get("/")
def index():
    jobs = rules.recent(*_viewer())
    return page_or_fragment("jobs/list.html", {"jobs": "jobs/_table.html"}, jobs=jobs)


@bp.get("/<job_id>")
def show(job_id: str):
    job = rules.get(job_id, *_viewer())
    if job.kind in PAGES:
        return redirect(url_for(PAGES[job.kind], job_id=job.id))  # its own page says what it found or did
    return page_or_fragment("jobs/show.html", {"job": "jobs/_job.html"}, job=job)


@bp.get("/<job_id>/download")
def download(job_id: str):
    job = rules.get(job_id, *_viewer())
    if not job.finished or not job.file_name:  # a failed import keeps its bad rows
        return page_or_fragment("jobs/show.html", None, 409, job=job)
    return Response(
        stream_with_context(rules.file_chunks(job)),
        mimetype=(job.file_type or "application/octet-stream").split(";")[0],
        headers={
            "Content-Disposition": f'attachment; filename="{job.file_name}"',
            "Content-Length": str(job.file_size),
            "Cache-Control": "no-store",
        },
    )
