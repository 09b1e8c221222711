"""Commands for the `flask --app app` command line."""

import click
from flask import Flask
from flask.cli import with_appcontext


def init_app(app: Flask) -> None:
    app.cli.add_command(seed_demo)
    app.cli.add_command(identifiers_report)
    app.cli.add_command(encryption)


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


@click.group("encryption")
def encryption() -> None:
    """The keys that encrypt stored secrets (Stripe keys): see app/vault.py."""


@encryption.command("rotate")
@with_appcontext
def rotate_key() -> None:
    """Make a new key for instance/encryption_keys and re-encrypt every stored secret with it.

    Safe to run while the console serves: until the secrets are rewritten both keys decrypt."""
    from cryptography.fernet import Fernet
    from flask import current_app

    from app import vault

    if current_app.config.get("ENCRYPTION_KEYS"):
        raise click.ClickException(
            "The keys come from ENCRYPTION_KEYS here. Put a new key first in that list (keep the old one after "
            "it), restart, run `flask --app app encryption reencrypt`, then drop the old key. Make a key with "
            '`python -c "from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())"`.'
        )
    old = vault.keys()
    vault.write_keys([Fernet.generate_key().decode(), *old])
    rewritten = _reencrypt_stored_secrets()
    vault.write_keys(vault.keys()[:1])
    click.echo(f"New encryption key in use; {rewritten} stored secret{'s' if rewritten != 1 else ''} re-encrypted.")


@encryption.command("reencrypt")
@with_appcontext
def reencrypt() -> None:
    """Re-encrypt every stored secret with the first key (after adding a new first key to ENCRYPTION_KEYS)."""
    rewritten = _reencrypt_stored_secrets()
    click.echo(f"{rewritten} stored secret{'s' if rewritten != 1 else ''} re-encrypted with the first key.")


def _reencrypt_stored_secrets() -> int:
    """Rewrite each stored secret under the first key, in one transaction; how many."""
    import sqlalchemy as sa

    from app import vault
    from app.extensions import db
    from app.store import unit_of_work

    # The stored text itself, not through the model (which would decrypt it).
    apps = sa.table("apps", sa.column("id", sa.String), sa.column("stripe_secret_api_key", sa.Text))
    with unit_of_work():
        rows = db.session.execute(
            sa.select(apps.c.id, apps.c.stripe_secret_api_key).where(apps.c.stripe_secret_api_key.isnot(None))
        ).all()
        for app_id, stored in rows:
            db.session.execute(
                apps.update().where(apps.c.id == app_id).values(stripe_secret_api_key=vault.reencrypt(stored))
            )
    return len(rows)
