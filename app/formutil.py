"""What the console's forms share: a rule's problems shown beside the fields they name.

The rules name fields by the API's dotted paths (`supplier.addresses[0].country`); each form maps
those to its own fields in FIELD_FOR. An error no field claims goes to the top of the form.
"""

from flask_wtf import FlaskForm

from app.problems import FieldError, Problem


class ProblemForm(FlaskForm):
    FIELD_FOR: dict[str, str] = {}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.form_errors_extra: list[FieldError] = []

    def show_problem(self, problem: Problem) -> None:
        """Put each error of a problem next to the field it names; the rest (or the detail) go to the top."""
        for error in problem.errors:
            name = self.FIELD_FOR.get(error.field)
            target = getattr(self, name, None) if name else None
            if target is not None:
                target.errors = [*target.errors, error]
            else:
                self.form_errors_extra.append(error)
        if not problem.errors:
            self.form_errors_extra.append(FieldError("", "problem", problem.detail))

    def all_errors(self) -> list[tuple[str, object]]:
        """(field id, error) for the summary at the top of the form, in page order."""
        found = [(f.id, e) for f in self if f.type not in ("FieldList", "FormField") for e in f.errors]
        return found + [("", e) for e in self.form_errors_extra]
