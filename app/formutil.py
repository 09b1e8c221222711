"""What the console's forms share: a rule's problems shown beside the fields they name.

The rules name fields by the API's dotted paths (`supplier.addresses[0].country`); each form maps
those to its own fields in FIELD_FOR. An error no field claims goes to the top of the form.
"""

from collections.abc import Iterator
from contextlib import contextmanager

from flask_wtf import FlaskForm
from wtforms import Field, HiddenField

from app.numbers import whole_number
from app.problems import FieldError, Invalid, Problem, StaleEdit
from app.store import unit_of_work

MISSING_VERSION = "This form is missing its version; reload the page and try again."


class ProblemForm(FlaskForm):
    FIELD_FOR: dict[str, str] = {}
    # Where an error naming a field this form does not show goes instead; None: the top of the form.
    fallback_field: str | None = None

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.form_errors_extra: list[FieldError] = []

    def own_errors(self) -> list[FieldError]:
        """The errors only this form can make, which the rules never see (see refusing_with)."""
        return []

    def field_for(self, error: FieldError) -> Field | None:
        """The field an error is shown beside, or None for the top of the form."""
        target = getattr(self, self.FIELD_FOR.get(error.field, self.fallback_field) or "", None)
        return target if isinstance(target, Field) else None

    def show_problem(self, problem: Problem) -> None:
        """Put each error of a problem next to the field it names; the rest (or the detail) go to the top."""
        for error in problem.errors or [FieldError("", "problem", problem.detail)]:
            target = self.field_for(error)
            if target is not None:
                target.errors = [*target.errors, error]
            else:
                self.form_errors_extra.append(error)

    def all_errors(self) -> list[tuple[str, object]]:
        """(field id, error) for the summary at the top of the form, in page order, rows of lists
        included. (A bad CSRF token never reaches a form: CSRFProtect refuses the request first.)"""
        found = []
        for field in self:
            if field.type == "FieldList":
                for entry in field.entries:
                    subfields = entry.form if entry.type == "FormField" else [entry]
                    found += [(sub.id, e) for sub in subfields for e in sub.errors]
            elif field.type not in ("FormField", "CSRFTokenField"):
                found += [(field.id, e) for e in field.errors]
        return found + [("", e) for e in self.form_errors_extra]


class VersionedForm(ProblemForm):
    """An edit form. It carries the version of what it edits, as read when the page was made, and
    the rule refuses the save (StaleEdit) when someone else saved in between instead of overwriting."""

    version = HiddenField()
    # Every hidden version this form carries (a customer's form also carries its billing override's).
    VERSION_FIELDS: tuple[str, ...] = ("version",)

    @property
    def expected_version(self) -> int | None:
        return whole_number(self.version.data)

    def missing_version(self) -> bool:
        """Whether a version is missing (or not a number): saving would overwrite blindly, so the
        caller shows the form again, with what was typed and this form's message at its top."""
        if all(whole_number(getattr(self, name).data) is not None for name in self.VERSION_FIELDS):
            return False
        self.form_errors_extra.append(FieldError("", "missing_version", MISSING_VERSION))
        return True


@contextmanager
def refusing_with(own_errors: list[FieldError]) -> Iterator[None]:
    """Save in the block, but refuse with the form's own errors together with every error the rules
    find, so that the operator sees all of them at once.

    A form's own errors are those only a form can make (a metadata key typed twice, two passwords
    that differ): the rules never see them. The block is one unit of work, so a save that the rules
    accepted is rolled back when the form has errors of its own. A stale edit is shown alone: the
    page then shows what is saved now.
    """
    with unit_of_work():
        try:
            yield
        except StaleEdit:
            raise
        except Problem as problem:
            if not own_errors:
                raise
            raise Invalid(own_errors + (problem.errors or [FieldError("", "refused", problem.detail)])) from None
        if own_errors:
            raise Invalid(own_errors)
