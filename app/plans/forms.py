"""The plan and subscription forms of the console.

They only carry what was typed: the rules in rules.py check it, and `show_problem` puts their
errors next to the fields they name (the API's field names, mapped by FIELD_FOR).
"""

from wtforms import SelectChoice, SelectField, StringField, TextAreaField

from app.formutil import ProblemForm, VersionedForm
from app.plans import rules
from app.plans.models import describe_cadence
from app.reference import currencies

# The cadences operators pick from; a plan made through the API with another one keeps it.
CADENCES = ("P1W", "P2W", "P1M", "P3M", "P6M", "P1Y")


def _cadence_label(cadence: str) -> str:
    return f"Every {describe_cadence(cadence)} ({cadence})"


class PlanForm(VersionedForm):
    FIELD_FOR = {
        "name": "name",
        "key": "key",
        "currency": "currency",
        "price.amount": "amount",
        "billingCadence": "billing_cadence",
        "description": "description",
    }

    name = StringField("Name", description="What operators and invoices call this plan, e.g. Pro.")
    key = StringField(
        "Key",
        description="Lower-case letters and digits, words joined by _ (e.g. pro_monthly). It cannot change later.",
        render_kw={"autocomplete": "off", "spellcheck": "false"},
    )
    currency = SelectField(
        "Currency",
        choices=lambda: (
            [SelectChoice("", "Choose a currency")]
            + [SelectChoice(c.code, f"{c.code} — {c.name}") for c in currencies().values()]
        ),
        validate_choice=False,
        description="Only customers who pay in this currency can subscribe. It cannot change later.",
    )
    amount = StringField(
        "Amount",
        description="The flat price for each billing period, e.g. 49.00, with no more decimals than the currency has.",
        render_kw={"inputmode": "decimal", "autocomplete": "off"},
    )
    billing_cadence = SelectField("Billing period", validate_choice=False, default="P1M")
    description = TextAreaField("Description")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        cadences = list(CADENCES)
        if self.billing_cadence.data and self.billing_cadence.data not in cadences:
            cadences.append(self.billing_cadence.data)  # keep a cadence set through the API
        self.billing_cadence.choices = [SelectChoice(c, _cadence_label(c)) for c in cadences]

    @classmethod
    def for_plan(cls, plan) -> "PlanForm":
        return cls(
            data={
                "name": plan.name,
                "amount": plan.amount_text,
                "billing_cadence": plan.billing_cadence,
                "description": plan.description or "",
                "version": str(plan.version),
            }
        )

    def to_input(self, editing: bool = False) -> rules.PlanInput:
        """What was typed; on edit the key and currency are not on the form (they cannot change)."""
        return rules.PlanInput(
            name=self.name.data or "",
            key=None if editing else (self.key.data or ""),
            currency=None if editing else self.currency.data,
            amount=self.amount.data,
            billing_cadence=self.billing_cadence.data,
            description=self.description.data,
        )


class SubscribeForm(ProblemForm):
    """Choose a plan for a customer: to subscribe it, or to change its plan.

    Only the plans the currency rule allows are offered (rules.fits_currency): those in the
    customer's currency, or any while it has none. `offered` is empty when no plan fits, and the
    page then says so instead of offering a choice that could only be refused.
    """

    FIELD_FOR = {"plan.key": "plan"}
    fallback_field = "plan"

    plan = SelectField("Plan", validate_choice=False)

    def __init__(self, *args, customer, plans, current_plan=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.currency = currency = customer.currency
        self.offered = [
            p for p in plans if rules.fits_currency(p, currency) and (current_plan is None or p.id != current_plan.id)
        ]
        self.offered.sort(key=lambda p: (p.currency, p.sort_name))
        self.plan.choices = [SelectChoice("", "Choose a plan")] + [
            SelectChoice(p.key, f"{p.name} — {p.price_text}") for p in self.offered
        ]
        if currency is None:
            self.help = "This customer has no currency yet: it will pay in the currency of the plan you choose."
        else:
            self.help = f"This customer pays in {currency}: these are the plans in {currency}."
