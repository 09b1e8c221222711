"""The one way every console form shows a rule's problem: beside the field it names, or at the top."""

from wtforms import StringField

from app.formutil import ProblemForm
from app.problems import FieldError, Invalid, PreconditionFailed


class PlanChoice(ProblemForm):
    FIELD_FOR = {"plan.key": "plan"}
    plan = StringField("Plan")
    note = StringField("Note")


def shown(form) -> list[tuple[str, str]]:
    return [(field_id, error.message) for field_id, error in form.all_errors()]


def test_errors_go_beside_the_fields_they_name_and_the_rest_to_the_top(app):
    with app.test_request_context():
        form = PlanChoice(meta={"csrf": False})
        form.show_problem(
            Invalid([FieldError("other", "x", "Not a field here"), FieldError("plan.key", "y", "No such plan")])
        )
        assert [e.message for e in form.plan.errors] == ["No such plan"] and not form.note.errors
        assert shown(form) == [("plan", "No such plan"), ("", "Not a field here")]  # fields first, in page order


def test_a_problem_without_field_errors_shows_its_detail_at_the_top_or_at_the_fallback(app):
    with app.test_request_context():
        form = PlanChoice(meta={"csrf": False})
        form.show_problem(PreconditionFailed("The customer is deleted."))
        assert shown(form) == [("", "The customer is deleted.")]
        form = PlanChoice(meta={"csrf": False})
        form.fallback_field = "plan"
        form.show_problem(PreconditionFailed("The customer is deleted."))
        assert shown(form) == [("plan", "The customer is deleted.")]
