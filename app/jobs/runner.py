"""What a worker does with a job: the work of its kind, with progress, and its failure recorded."""

import logging

from app.customers import export
from app.jobs import rules

log = logging.getLogger(__name__)

CHUNK_BYTES = 256 * 1024


def run(job_id: str) -> None:
    job = rules.begin(job_id)
    if job is None:
        return  # taken by another worker, or no longer queued
    try:
        if job.kind != "export":
            raise ValueError(f"Unknown kind of job: {job.kind}")
        _export(job)
    except Exception as error:  # the job fails, the worker lives on
        log.exception("Job %s failed", job_id)
        rules.fail(job_id, f"The job failed ({type(error).__name__}: {error}); the worker's log has the details.")


def _export(job) -> None:
    wanted, file_format = export.from_params(job.params)
    rules.progress(job, 0, export.count(wanted))
    buffer, seq, done = bytearray(), 0, 0
    for line in export.lines(wanted, file_format, with_bom=True):
        buffer += line.encode()
        done += 1
        if len(buffer) >= CHUNK_BYTES:
            rules.add_file_chunk(job, seq, bytes(buffer))
            buffer.clear()
            seq += 1
            rules.progress(job, done - (file_format == "csv"))  # less the header line
    if buffer or seq == 0:
        rules.add_file_chunk(job, seq, bytes(buffer))
    rules.progress(job, done - (file_format == "csv"))
    rules.finish(job, export.file_name(file_format), export.FORMATS[file_format])
