"""Reference data: how many decimals an amount may have comes from ISO 4217 itself."""

import importlib

import pytest
from alembic.migration import MigrationContext
from alembic.operations import Operations
from sqlalchemy import text

from app.extensions import db
from app.plans.models import format_amount
from app.reference import country_choices, currencies, minor_units

ISO_4217 = {"HUF": 2, "JPY": 0, "ISK": 0, "KRW": 0, "KWD": 3, "BHD": 3, "CLF": 4, "EUR": 2, "IQD": 3, "IRR": 2}


@pytest.mark.parametrize(("code", "decimals"), ISO_4217.items())
def test_minor_units_are_iso_4217s(code, decimals):
    assert minor_units(code) == decimals
    if code in currencies():  # CLF is a unit of account, not a currency a customer pays in
        assert currencies()[code].subunits == decimals


def test_a_price_stored_with_the_old_display_decimals_keeps_its_amount(ctx):
    """Migration 0010: IRR prices were stored in whole rials (CLDR's 0 decimals); ISO gives 2."""
    db.session.execute(
        text(
            "INSERT INTO plans (id, key, name, sort_name, currency, amount, billing_cadence, created_at, updated_at, "
            "version) VALUES ('01JPLANIRR0000000000000000', 'irr', 'Rial', 'rial', 'IRR', 1250, 'P1M', "
            "CURRENT_TIMESTAMP, CURRENT_TIMESTAMP, 1)"
        )
    )
    migration = importlib.import_module("app.migrations.versions.0010_iso4217_minor_units")
    with Operations.context(MigrationContext.configure(db.session.connection())):
        migration.upgrade()
    amount = db.session.scalar(text("SELECT amount FROM plans WHERE key = 'irr'"))
    assert format_amount(amount, "IRR") == "1250.00"


def test_the_country_picker_lists_names_as_people_sort_them():
    names = [name for _, name in country_choices("Choose")[1:]]
    assert names.index("Åland Islands") < names.index("Albania")  # "aland" < "albania"
    assert names.index("Côte d'Ivoire") < names.index("Croatia") and names[-1] == "Zimbabwe"
