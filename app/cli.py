"""Commands for the `flask --app app` command line."""

import click
from flask import Flask


def init_app(app: Flask) -> None:
    app.cli.add_command(seed_demo)


@click.command("seed-demo")
@click.option("--count", default=300, show_default=True, help="How many customers to add.")
@click.option("--seed", default=42, show_default=True, help="Random seed, for the same data every time.")
def seed_demo(count: int, seed: int) -> None:
    """Fill the database with realistic demo customers, through the same rules as the API."""
    from app.customers.demo import seed_customers

    created, skipped = seed_customers(count, seed)
    click.echo(f"Added {created} demo customers" + (f" ({skipped} already there were skipped)." if skipped else "."))
