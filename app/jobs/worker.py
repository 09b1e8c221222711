"""Wiring the jobs into the app: its queue, and the worker command (`flask --app app jobs worker`)."""

import click
from flask import Flask, current_app
from flask.cli import AppGroup

from app.jobs import runner
from app.jobs.queue import make_queue

jobs_cli = AppGroup("jobs", help="Background jobs (exports).")


@jobs_cli.command("worker")
@click.option("--threads", default=2, show_default=True, help="Jobs run at once by this worker.")
def worker(threads: int) -> None:
    """Run queued jobs until stopped (Ctrl-C, SIGTERM). scripts/start runs one beside the web server;
    on PostgreSQL, workers on several machines share the queue."""
    consumer = current_app.extensions["jobs_queue"].create_consumer(workers=threads, worker_type="thread")
    consumer.run()


def init_app(app: Flask) -> None:
    app.extensions["jobs_queue"] = make_queue(app, runner.run)
    app.cli.add_command(jobs_cli)
