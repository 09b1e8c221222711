"""Stripe secret keys encrypted at rest (app/vault.py)

Revision ID: 0014_encrypted_stripe_keys
Revises: 0013_console_sessions
Create Date: 2026-12-02

The column becomes text (ciphertext is longer than the key) and each stored key is encrypted with
the instance's first encryption key (made on first use in instance/encryption_keys, or given as
ENCRYPTION_KEYS). Downgrading decrypts them again.
"""

import sqlalchemy as sa
from alembic import op

from app import vault

revision = "0014_encrypted_stripe_keys"
down_revision = "0013_console_sessions"
branch_labels = None
depends_on = None

apps = sa.table("apps", sa.column("id", sa.String), sa.column("stripe_secret_api_key", sa.Text))


def _rewrite(change) -> None:
    conn = op.get_bind()
    rows = conn.execute(
        sa.select(apps.c.id, apps.c.stripe_secret_api_key).where(apps.c.stripe_secret_api_key.isnot(None))
    )
    for app_id, value in rows.all():
        conn.execute(apps.update().where(apps.c.id == app_id).values(stripe_secret_api_key=change(value)))


def _retype(type_, existing_type) -> None:
    # SQLite keeps text of any length in any text column: only PostgreSQL needs the change (and
    # SQLite's way of altering a column, copying the table, would trip over its foreign keys).
    if op.get_bind().dialect.name != "sqlite":
        op.alter_column("apps", "stripe_secret_api_key", type_=type_, existing_type=existing_type)


def upgrade():
    _retype(sa.Text(), sa.String(255))
    _rewrite(vault.encrypt)


def downgrade():
    _rewrite(vault.decrypt)
    _retype(sa.String(255), sa.Text())
