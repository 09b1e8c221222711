"""What a worker does with a job: the work of its kind, with progress, and its failure recorded."""

import logging
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from itertools import islice
from typing import Self

from flask import current_app, g

from app.auth.models import Operator
from app.customers import bulk, export, importing
from app.customers.importing import Refused, Report
from app.display import plural
from app.extensions import db, utcnow
from app.history import Actor
from app.jobs import rules
from app.jobs.models import Job
from app.problems import Problem
from app.store import unit_of_work

log = logging.getLogger(__name__)

CHUNK_BYTES = 256 * 1024


def launch(kind: str, title: str, operator_id: str, params: dict, inputs=(), *, inline: bool = False) -> Job:
    """Start a job: `inline`, run at once within the request (a moment's work: the page shows its
    result straight away); otherwise queued for the worker (the page shows its progress)."""
    job = rules.start(kind, title, operator_id, params, inputs, queue=not inline)
    if inline:
        run(job.id)
    return job


def run(job_id: str) -> None:
    job = rules.begin(job_id)
    if job is None:
        return  # taken by another worker, or no longer queued
    try:
        WORK[job.kind](job)
    except _Stopped as stopped:
        rules.fail(job_id, stopped.message, stopped.report.as_json(), keep_file=True)
    except (Refused, Problem) as refused:  # the file, or a change meanwhile: said for the operator
        rules.fail(job_id, str(refused))
    except Exception as error:  # the job fails, the worker lives on
        log.exception("Job %s failed", job_id)
        rules.fail(job_id, f"The job failed ({type(error).__name__}: {error}); the worker's log has the details.")


def _export(job: Job) -> None:
    wanted, file_format = export.from_params(job.params)
    rules.progress(job, 0, export.count(wanted))
    with _ChunkedFile(job) as file:
        done = 0
        for text, rows in export.pieces(wanted, file_format, with_bom=True):
            done += rows
            if file.write(text.encode()):
                rules.progress(job, done)
    rules.progress(job, done)
    rules.finish(job, export.file_name(file_format), export.FORMATS[file_format])


class _ChunkedFile:
    """A job's result file, written in CHUNK_BYTES pieces. A `lazy` file starts with `header` at
    its first write, and without one is no file at all; otherwise an empty file is one empty piece."""

    def __init__(self, job: Job, header: bytes = b"", lazy: bool = False):
        self.job, self.header, self.lazy = job, header, lazy
        self.buffer, self.seq, self.started = bytearray(), 0, False

    def __enter__(self) -> Self:
        return self

    def write(self, data: bytes) -> bool:
        """Add `data`; True when a piece was stored (and committed with the next progress)."""
        if not self.started:
            self.buffer += self.header
            self.started = True
        self.buffer += data
        if len(self.buffer) < CHUNK_BYTES:
            return False
        self._store()
        return True

    def _store(self) -> None:
        rules.add_file_chunk(self.job, self.seq, bytes(self.buffer))
        self.buffer.clear()
        self.seq += 1

    def __exit__(self, *exc) -> None:
        if exc[0] is None and (self.buffer or (self.seq == 0 and not self.lazy)):
            self._store()


# --- Imports ------------------------------------------------------------------------------------


class _Stopped(Exception):
    """An import found rows in error: nothing more is written; the report says which."""

    def __init__(self, message: str, report: Report):
        super().__init__(message)
        self.message, self.report = message, report


@contextmanager
def _as_operator(job: Job) -> Iterator[None]:
    """The changes a job writes are the operator's who started it, made by this job, for the reason
    they gave (history reads all three from `g`; a job run inside a request gives the request's
    back after)."""
    operator = db.session.get(Operator, job.operator_id)
    saved = g.get("actor"), g.get("job_id"), g.get("reason")
    g.actor = Actor("operator", job.operator_id, operator.username if operator else "a removed operator")
    g.job_id, g.reason = job.id, job.params.get("reason")
    try:
        yield
    finally:
        for name, value in zip(("actor", "job_id", "reason"), saved, strict=True):
            if value is None:
                g.pop(name, None)
            else:
                setattr(g, name, value)


def _layout(job: Job) -> tuple[importing.Layout, list[str | None]]:
    head = b"".join(islice(rules.input_chunks(file_of(job)), 1))[: importing.HEAD_BYTES]
    layout = importing.inspect(head)
    mapping = job.params.get("mapping") or importing.guess_mapping(layout.headers)
    return layout, mapping


def _rows(job: Job, layout: importing.Layout, mapping: list[str | None]):
    return importing.read(rules.input_chunks(file_of(job)), layout, mapping)


def file_of(job: Job) -> str:
    """The job that holds the file to import: this one (an upload), or the upload it names."""
    return job.params.get("file") or job.id


def _import_check(job: Job) -> None:
    """A dry run: every row checked, nothing written; the bad rows, if any, as the job's file."""
    layout, mapping = _layout(job)
    problems = importing.mapping_problems(layout.headers, mapping)
    if problems:
        rules.finish(job, result=Report(layout, mapping).as_json() | {"problems": problems})
        return
    report = _checked(job, layout, mapping)
    if not report.rows:
        raise Refused("The file has a header row but no customers under it.")
    bad_rows = ("bad-rows.csv", "text/csv; charset=utf-8") if report.counts["error"] else (None, None)
    rules.finish(job, *bad_rows, result=report.as_json())


def _checked(job: Job, layout: importing.Layout, mapping: list[str | None]) -> Report:
    """Every row checked, nothing written, with the job's progress; the bad rows as its file."""
    report = Report(layout, mapping)
    with _ChunkedFile(job, report.bad_rows_header().encode(), lazy=True) as bad_rows:
        for batch in importing.check(_rows(job, layout, mapping)):
            report.add(batch, lambda line: bad_rows.write(line.encode()))
            rules.progress(job, report.rows)
    return report


def _import(job: Job) -> None:
    """Write the file: all or nothing up to IMPORT_ATOMIC_ROWS rows; beyond, a batch at a time, each
    batch committed with the job's progress. Each batch is checked again as it is written (customers
    may have changed since the check): a row in error stops the import there, never half a row in,
    and importing the file again goes on from there, what was written coming out unchanged."""
    with _as_operator(job):
        _write(job)


def _write(job: Job) -> None:
    layout, mapping = _layout(job)
    total = job.params["rows"]
    atomic = total <= current_app.config["IMPORT_ATOMIC_ROWS"]
    rules.stage(job, "Writing", total)
    report = Report(layout, mapping)
    stale = "A customer of this file was changed by someone else while it was written; import the file again."
    with unit_of_work(stale=stale) if atomic else nullcontext():
        for batch in importing.check(_rows(job, layout, mapping)):
            report.add(batch)
            if report.counts["error"]:
                written = "Nothing was written" if atomic else f"Rows before row {batch[0].row.number:,} were written"
                raise _Stopped(_errors_now(report, written), report)
            with unit_of_work(stale=stale, conflict=lambda batch=batch: _taken(batch)):
                importing.write(batch)
                job.done, job.heartbeat_at = report.rows, utcnow()
    rules.finish(job, result=report.as_json())


def _errors_now(report: Report, written: str) -> str:
    return (
        f"{written}: {plural(report.counts['error'], 'row')} with errors now (customers changed since the check). "
        "Correct them and import the file again."
    )


def _taken(batch: list[importing.Checked]) -> Problem:
    return Problem(
        f"Rows {batch[0].row.number:,} to {batch[-1].row.number:,} were not written: another change took one of "
        "their keys or subject keys meanwhile. Import the file again: its check says which.",
        status=409,
    )


# --- Bulk changes -------------------------------------------------------------------------------


def _bulk_preview(job: Job) -> None:
    change, selection = bulk.BulkChange(**job.params["change"]), bulk.Selection.of_json(job.params["selection"])
    rules.progress(job, 0, job.params["expected"])
    tally = bulk.preview(change, selection, lambda done: rules.progress(job, done))
    rules.finish(job, result=tally.to_json())


def _bulk(job: Job) -> None:
    change, selection = bulk.BulkChange(**job.params["change"]), bulk.Selection.of_json(job.params["selection"])
    rules.progress(job, 0, job.params["expected"])
    with _as_operator(job):
        tally = bulk.run(change, selection, lambda done: rules.progress(job, done))
    rules.finish(job, result=tally.to_json())


def _bulk_undo(job: Job) -> None:
    rules.progress(job, 0, job.params["expected"])
    with _as_operator(job):
        tally = bulk.undo(job.params["batch"], lambda done: rules.progress(job, done))
    rules.finish(job, result=tally.to_json())


WORK = {
    "export": _export,
    "import_check": _import_check,
    "import": _import,
    "bulk_preview": _bulk_preview,
    "bulk": _bulk,
    "bulk_undo": _bulk_undo,
}
