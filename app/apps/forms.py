"""The forms of the Apps console: install from the marketplace, and edit an installed app."""

from wtforms import BooleanField, PasswordField, StringField, TextAreaField

from app.formutil import ProblemForm, VersionedForm


class InstallForm(ProblemForm):
    FIELD_FOR = {"name": "name", "apiKey": "api_key"}

    name = StringField("Name", description="How the console names this app. Leave empty for the listing's name.")
    # A password field: the key is never sent back to the browser, not even to keep what was typed.
    api_key = PasswordField(
        "Secret API key",
        description="A Stripe secret or restricted key (sk_test_…, sk_live_…, rk_…). "
        "Only a masked form is shown later.",
        render_kw={"autocomplete": "off", "spellcheck": "false"},
    )
    create_billing_profile = BooleanField(
        "Also create a billing profile on this app",
        default=True,
        description="It becomes the default when none exists, or when Stripe replaces the Sandbox default.",
    )


class AppForm(VersionedForm):
    FIELD_FOR = {"name": "name", "description": "description", "secretAPIKey": "secret_api_key"}

    name = StringField("Name")
    description = TextAreaField("Description")
    secret_api_key = PasswordField(
        "New secret API key",
        description="Leave empty to keep the current key. A new key must be of the same mode (test or live).",
        render_kw={"autocomplete": "off", "spellcheck": "false"},
    )
    enable_draft_sync_hook = BooleanField("Enable the draft sync hook")
    enable_issuing_sync_hook = BooleanField("Enable the issuing sync hook")
