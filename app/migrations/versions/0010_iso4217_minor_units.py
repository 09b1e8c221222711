"""Plan prices in ISO 4217's minor units

Revision ID: 0010_iso4217_minor_units
Revises: 0009_search_walk_covering
Create Date: 2026-12-01

Prices are kept as integer counts of a currency's minor units. Until now the number of minor units
came from CLDR's display data (Babel, up to 2.18), which gives these currencies no decimals where
ISO 4217 gives them two (three for IQD). The app now reads ISO's table (app/reference.py), so a
price stored as 1250 IRR would read as 12.50: each is scaled up to the same amount in ISO's units.
Scaling up is exact; no currency had more decimals in CLDR than in ISO.
"""

from alembic import op

revision = "0010_iso4217_minor_units"
down_revision = "0009_search_walk_covering"
branch_labels = None
depends_on = None

# Currency → ISO 4217 decimals minus the CLDR decimals that prices were stored with (frozen here).
EXTRA_DECIMALS = {
    "AFN": 2,
    "ALL": 2,
    "IQD": 3,
    "IRR": 2,
    "KPW": 2,
    "LAK": 2,
    "LBP": 2,
    "MGA": 2,
    "MMK": 2,
    "RSD": 2,
    "SOS": 2,
    "SYP": 2,
    "YER": 2,
}


def _scale(direction: str) -> None:
    for currency, decimals in EXTRA_DECIMALS.items():
        op.execute(f"UPDATE plans SET amount = amount {direction} {10**decimals} WHERE currency = '{currency}'")


def upgrade():
    _scale("*")


def downgrade():
    _scale("/")
