"""Stripe secret keys are encrypted at rest (issue 16), with a key from the configuration or the
instance folder, and rotating that key is one command."""

import pytest
import sqlalchemy as sa
from cryptography.fernet import Fernet

from app import create_app, vault
from app.apps import rules
from app.apps.models import InstalledApp
from app.extensions import db

SECRET = "sk_test_51VaultVaultVaultVault1234567890abc"


def stored(app, app_id: str) -> str:
    """What the database itself holds in the key's column."""
    with app.app_context():
        return db.session.execute(
            sa.text("SELECT stripe_secret_api_key FROM apps WHERE id = :id"), {"id": app_id}
        ).scalar_one()


def install(app) -> str:
    with app.app_context():
        installed, _ = rules.install("stripe", name="Stripe", api_key=SECRET)
        return installed.id


def read_key(app, app_id: str) -> str:
    with app.app_context():
        db.session.expire_all()
        return db.session.get(InstalledApp, app_id).stripe_secret_api_key


def test_the_database_holds_only_ciphertext(app, client):
    app_id = install(app)
    raw = stored(app, app_id)
    assert SECRET not in raw and SECRET[-10:] not in raw
    assert read_key(app, app_id) == SECRET
    assert SECRET not in client.get(f"/api/v1/apps/{app_id}").text and SECRET not in client.get(f"/apps/{app_id}").text


def test_rotating_the_instance_key_reencrypts_every_secret(app, tmp_path):
    own = create_app({**app.config, "ENCRYPTION_KEYS": None})
    own.instance_path = str(tmp_path)  # its own keys file, not the checkout's
    app_id = install(own)
    keys_file = tmp_path / vault.KEYS_FILE
    first_key, before = keys_file.read_text().strip(), stored(own, app_id)
    assert oct(keys_file.stat().st_mode & 0o777) == "0o600"

    result = own.test_cli_runner().invoke(args=["encryption", "rotate"])
    assert result.exit_code == 0, result.output
    assert "1 stored secret re-encrypted" in result.output
    new_key = keys_file.read_text().strip()
    assert new_key != first_key and "\n" not in new_key  # the old key is gone
    assert stored(own, app_id) != before and read_key(own, app_id) == SECRET


def test_with_configured_keys_rotation_is_add_reencrypt_drop(app):
    app_id = install(app)
    old = app.config["ENCRYPTION_KEYS"][0]
    refused = app.test_cli_runner().invoke(args=["encryption", "rotate"])
    assert refused.exit_code != 0 and "ENCRYPTION_KEYS" in refused.output

    new = Fernet.generate_key().decode()
    app.config["ENCRYPTION_KEYS"] = [new, old]
    assert "1 stored secret re-encrypted" in app.test_cli_runner().invoke(args=["encryption", "reencrypt"]).output
    app.config["ENCRYPTION_KEYS"] = [new]
    assert read_key(app, app_id) == SECRET


def test_a_lost_key_is_a_clear_error_not_a_wrong_secret(app):
    app_id = install(app)
    app.config["ENCRYPTION_KEYS"] = [Fernet.generate_key().decode()]
    with pytest.raises(vault.UnreadableSecret, match="restore the key"):
        read_key(app, app_id)
