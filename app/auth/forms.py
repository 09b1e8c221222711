"""The forms of the login page and of the operators and tokens pages. The rules check the values."""

from flask_wtf import FlaskForm
from wtforms import BooleanField, PasswordField, SelectChoice, SelectField, StringField

from app.auth.models import ROLES
from app.formutil import ProblemForm, VersionedForm
from app.problems import FieldError

ROLE_CHOICES = [
    SelectChoice("viewer", "Viewer — reads everything"),
    SelectChoice("editor", "Editor — also changes customers"),
    SelectChoice("admin", "Admin — also billing profiles, apps, operators and tokens"),
]
assert [c.value for c in ROLE_CHOICES] == list(ROLES)


def _role_choices():
    return ROLE_CHOICES


class AuthForm(ProblemForm):
    """The operators' and tokens' forms name their fields as the rules do."""

    FIELD_FOR = {name: name for name in ("username", "role", "password", "name", "confirm")}


class PasswordTwiceForm(AuthForm):
    """A form with a password typed twice (its `password` and `confirm` fields)."""

    def own_errors(self) -> list[FieldError]:
        """Two passwords that differ: shown with the rules' errors (formutil.refusing_with)."""
        if self.password.data != self.confirm.data:
            return [FieldError("confirm", "mismatch", "The two passwords are not the same.")]
        return []


class LoginForm(FlaskForm):
    username = StringField("Username", render_kw={"autocomplete": "username", "autocapitalize": "none"})
    password = PasswordField("Password", render_kw={"autocomplete": "current-password"})


class NewOperatorForm(PasswordTwiceForm):
    username = StringField("Username", render_kw={"autocomplete": "off", "autocapitalize": "none"})
    role = SelectField("Role", choices=_role_choices, default="viewer", validate_choice=False)
    password = PasswordField(
        "Password",
        description="At least 12 characters. Tell it to the operator in person.",
        render_kw={"autocomplete": "new-password"},
    )
    confirm = PasswordField("Password again", render_kw={"autocomplete": "new-password"})


class EditOperatorForm(PasswordTwiceForm, VersionedForm):
    role = SelectField("Role", choices=_role_choices, validate_choice=False)
    active = BooleanField("May log in", description="Untick to lock this operator out; their history stays.")
    password = PasswordField(
        "New password",
        description="Leave empty to keep the current password.",
        render_kw={"autocomplete": "new-password"},
    )
    confirm = PasswordField("New password again", render_kw={"autocomplete": "new-password"})


class TokenForm(AuthForm):
    name = StringField("Name", description="What uses this token, e.g. “invoicing job”.")
    role = SelectField("Role", choices=_role_choices, default="viewer", validate_choice=False)


class ConfirmForm(FlaskForm):
    """A button that only posts (revoke, log out): its CSRF token is all it carries."""
