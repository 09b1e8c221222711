"""Gunicorn settings that `scripts/start` and the benchmark serve the console with (`--config`)."""

import gc


def post_worker_init(worker):
    # By now the worker holds the app, its mappers and compiled statements, for as long as it lives.
    # Freezing them keeps the collector from rescanning them all in each full collection, which
    # otherwise stalls a request now and then by tens of milliseconds (the p99 of every page).
    gc.freeze()
