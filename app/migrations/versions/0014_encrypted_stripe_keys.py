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


def upgrade():
    with op.batch_alter_table("apps") as batch:
        batch.alter_column("stripe_secret_api_key", type_=sa.Text(), existing_type=sa.String(255))
    _rewrite(vault.encrypt)


def downgrade():
    _rewrite(vault.decrypt)
    with op.batch_alter_table("apps") as batch:
        batch.alter_column("stripe_secret_api_key", type_=sa.String(255), existing_type=sa.Text())
