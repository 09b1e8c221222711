"""Commands for the `flask --app app` command line."""

import click
from flask import Flask
from flask.cli import with_appcontext


def init_app(app: Flask) -> None:
    app.cli.add_command(seed_demo)
    app.cli.add_command(identifiers_report)


@click.command("seed-demo")
@click.option("--count", default=300, show_default=True, help="How many customers to add.")
@click.option("--seed", default=42, show_default=True, help="Random seed, for the same data every time.")
def seed_demo(count: int, seed: int) -> None:
    """Fill the database with realistic demo customers, through the same rules as the API."""
    from app.customers.demo import seed_customers

    created, skipped = seed_customers(count, seed)
    click.echo(f"Added {created} demo customers" + (f" ({skipped} already there were skipped)." if skipped else "."))


@click.command("identifiers-report")
@with_appcontext
def identifiers_report() -> None:
    """List the stored keys, subject keys and metadata keys that today's identifier rules would
    refuse (hidden characters, or not in Unicode's composed form). Nothing is changed: an operator
    decides what each should become, and edits it through the console or the API."""
    found = 0
    for line in _broken_identifiers():
        click.echo(line)
        found += 1
    click.echo(
        f"{found} identifier{'s' if found != 1 else ''} break the rules."
        if found
        else "Every identifier keeps the rules."
    )


def _broken_identifiers():
    """ "<where>: <which value> <why>" for each stored identifier that breaks the rules."""
    from sqlalchemy import select

    from app.apps.models import CustomerAppData, InstalledApp
    from app.billing.models import BillingProfile
    from app.customers.models import Customer, CustomerIdentifier
    from app.extensions import db
    from app.text_rules import hidden_character, nfc

    def why(value: str) -> str | None:
        hidden = hidden_character(value)
        if hidden:
            return f"contains {hidden}"
        return "is not in Unicode's composed form (NFC)" if nfc(value) != value else None

    live_identifiers = (
        select(CustomerIdentifier, Customer)
        .join(Customer, Customer.id == CustomerIdentifier.customer_id)
        .where(CustomerIdentifier.deleted_at.is_(None))
        .order_by(Customer.sort_name, Customer.id)
    )
    for ident, customer in db.session.execute(live_identifiers):
        if (reason := why(ident.value)) is not None:
            kind = "key" if ident.is_key else "subject key"
            yield f'Customer "{customer.name}" ({customer.id}): {kind} {ident.value!a} {reason}.'
    holders = [
        (Customer, "Customer", Customer.deleted_at.is_(None)),
        (BillingProfile, "Billing profile", BillingProfile.deleted_at.is_(None)),
        (InstalledApp, "App", InstalledApp.deleted_at.is_(None)),
    ]
    for model, noun, live in holders:
        for row in db.session.scalars(select(model).where(live).order_by(model.id)):
            for key in row.metadata_ or {}:
                if (reason := why(key)) is not None:
                    yield f'{noun} "{row.name}" ({row.id}): metadata key {key!a} {reason}.'
    for row in db.session.scalars(select(CustomerAppData).order_by(CustomerAppData.customer_id)):
        for key in row.metadata_ or {}:
            if (reason := why(key)) is not None:
                yield f"App data of customer {row.customer_id} in app {row.app_id}: metadata key {key!a} {reason}."
