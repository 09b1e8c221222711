"""A benchmark anyone can rerun: see bench/run.py and docs/benchmarks.md."""
