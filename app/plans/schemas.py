"""The plans' and subscriptions' JSON shapes (OpenMeter's v1 `Plan`, `Subscription` and their parts, as
far as our flat plans have them): parsed, serialised and documented from here (see app/schemas.py).

Our plans are a simplified OpenMeter plan: one flat price per billing cadence instead of phases and
rate cards, so `price` is always OpenMeter's FlatPrice (no union to tell apart: its `type` may be
left out). Changes take effect at once, so `timing` may only be "immediate".

Input fields that take null are documented nullable; response fields never are (they are left out).
"""

from typing import Annotated, Any, Literal

from pydantic import BeforeValidator, ConfigDict
from pydantic.json_schema import SkipJsonSchema
from pydantic_core import PydanticCustomError

from app.plans.models import CADENCE_PATTERN
from app.plans.models import Plan as PlanRow
from app.plans.models import Subscription as SubscriptionRow
from app.plans.rules import (
    AMOUNT_MAX_WHOLE_DIGITS,
    AMOUNT_PATTERN,
    CADENCE_MAX,
    DESCRIPTION_MAX,
    KEY_MAX,
    KEY_PATTERN,
    NAME_MAX,
    PlanInput,
)
from app.schemas import ID_PATTERN, CurrencyCode, Paginated, Shape, Timestamp, documented, left_out

# The rules' limits, as the document states them (JSON Schema patterns are ECMA-262; these read the
# same in Python's re, which the tests validate with).
KEY = {"minLength": 1, "maxLength": KEY_MAX, "pattern": f"^{KEY_PATTERN.pattern}$"}
# A duration that is not all zeros (the rules refuse "P" and "P0M"), in ASCII digits.
CADENCE = {
    "maxLength": CADENCE_MAX,
    "pattern": f"^(?=.*[1-9])(?:{CADENCE_PATTERN.pattern})$",
    "description": "ISO 8601 duration of whole days or more, e.g. P1M",
    "examples": ["P1M", "P1Y"],
}
# parse_amount's rule: AMOUNT_PATTERN, with at most AMOUNT_MAX_WHOLE_DIGITS digits before the point
# once leading zeros are dropped.
AMOUNT = {
    "pattern": f"^(?=(?:{AMOUNT_PATTERN.pattern})$)0*[0-9]{{1,{AMOUNT_MAX_WHOLE_DIGITS}}}(?:\\.[0-9]+)?$",
    "description": (
        f"Decimal in ASCII digits, at most {AMOUNT_MAX_WHOLE_DIGITS} before the point (leading zeros aside) "
        "and at most as many decimals as the currency has (ISO 4217)."
    ),
}


def _only(allowed: tuple, what: str) -> BeforeValidator:
    """An input field that takes `allowed` values or null and refuses anything else with `what`
    (which follows the field's name in the message), before its type is checked."""

    def check(value: Any) -> Any:
        if value is not None and value not in allowed:
            raise PydanticCustomError("unsupported", what)
        return value

    return BeforeValidator(check)


Timing = Annotated[
    Literal["immediate"] | None,
    _only(("immediate",), 'can only be "immediate" (or left out): changes take effect at once here'),
]
TIMING = documented(description="Changes take effect at once; other timings are refused.")


# --- Plans ------------------------------------------------------------------------------------


class FlatPrice(Shape):
    """A flat price: `amount` per billing cadence."""

    type: Annotated[Literal["flat"], _only(("flat",), 'can only be "flat": our plans have one flat price')] = "flat"
    amount: str = documented(required=True, **AMOUNT)


class PlanCreate(Shape):
    """A plan as created."""

    key: str = documented(required=True, **KEY)
    name: str = documented(required=True, minLength=1, maxLength=NAME_MAX)
    description: str | None = documented(maxLength=DESCRIPTION_MAX)
    currency: CurrencyCode
    billing_cadence: str = documented(required=True, **CADENCE)
    price: FlatPrice

    def to_input(self) -> PlanInput:
        return PlanInput(
            name=self.name,
            key=self.key,
            currency=self.currency,
            amount=self.price.amount,
            billing_cadence=self.billing_cadence,
            description=self.description,
        )


class PlanReplaceUpdate(PlanCreate):
    """A plan as replaced (PUT): key and currency are fixed; an omitted description is cleared."""

    key: str | None = documented(**KEY, description="Optional; if given, it must be the plan's key.")
    currency: CurrencyCode | None = None  # optional; if given, it must be the plan's


class Plan(PlanCreate):
    """A plan as read."""

    id: str = documented(required=True, pattern=ID_PATTERN)
    description: str | SkipJsonSchema[None] = left_out(maxLength=DESCRIPTION_MAX)
    created_at: Timestamp
    updated_at: Timestamp
    deleted_at: Timestamp | SkipJsonSchema[None] = left_out()

    @classmethod
    def of(cls, plan: PlanRow) -> "Plan":
        return cls(
            id=plan.id,
            key=plan.key,
            name=plan.name,
            description=plan.description,
            currency=plan.currency,
            billing_cadence=plan.billing_cadence,
            price=FlatPrice(amount=plan.amount_text),
            created_at=plan.created_at,
            updated_at=plan.updated_at,
            deleted_at=plan.deleted_at,
        )


class PlanPaginatedResponse(Paginated[Plan]):
    pass


# --- Subscriptions ----------------------------------------------------------------------------


class PlanReferenceInput(Shape):
    """The plan to subscribe to, by key (we have no plan versions)."""

    key: str = documented(required=True, **KEY)


class PlanReference(Shape):
    id: str = documented(required=True, pattern=ID_PATTERN)
    key: str = documented(required=True, **KEY)


class PlanSubscriptionCreate(Shape):
    """Give customerId or customerKey; customerId wins when both are given."""

    model_config = ConfigDict(
        json_schema_extra={
            "anyOf": [
                {"required": ["customerId"], "properties": {"customerId": {"type": "string"}}},
                {"required": ["customerKey"], "properties": {"customerKey": {"type": "string"}}},
            ]
        }
    )

    customer_id: str | None = documented()
    customer_key: str | None = documented()
    plan: PlanReferenceInput
    timing: Timing = TIMING
    custom_plan: Annotated[None, _only((), "is not supported: give plan.key instead")] = documented(
        description="Custom plans are not supported: give plan.key instead."
    )


class PlanSubscriptionChange(Shape):
    plan: PlanReferenceInput
    timing: Timing = TIMING


class CancelRequest(Shape):
    timing: Timing = TIMING


class Subscription(Shape):
    id: str = documented(required=True, pattern=ID_PATTERN)
    name: str = documented(required=True, description="The plan's name.")
    customer_id: str = documented(required=True, pattern=ID_PATTERN)
    plan: PlanReference
    currency: CurrencyCode
    billing_cadence: str = documented(required=True, **CADENCE)
    status: Literal["active", "inactive"]
    active_from: Timestamp
    active_to: Timestamp | SkipJsonSchema[None] = left_out()
    billing_anchor: Timestamp
    created_at: Timestamp
    updated_at: Timestamp

    @classmethod
    def of(cls, subscription: SubscriptionRow) -> "Subscription":
        plan = subscription.plan
        return cls(
            id=subscription.id,
            name=plan.name,
            customer_id=subscription.customer_id,
            plan=PlanReference(id=plan.id, key=plan.key),
            currency=subscription.currency,
            billing_cadence=plan.billing_cadence,
            status=subscription.status,
            active_from=subscription.active_from,
            active_to=subscription.active_to,
            billing_anchor=subscription.active_from,
            created_at=subscription.created_at,
            updated_at=subscription.updated_at,
        )


class SubscriptionChangeResponseBody(Shape):
    """The subscription that ended and the one that began in its place."""

    current: Subscription
    next: Subscription


class SubscriptionPaginatedResponse(Paginated[Subscription]):
    pass


SHAPES = (
    Plan,
    PlanCreate,
    PlanReplaceUpdate,
    PlanPaginatedResponse,
    PlanReferenceInput,
    PlanReference,
    PlanSubscriptionCreate,
    PlanSubscriptionChange,
    CancelRequest,
    Subscription,
    SubscriptionChangeResponseBody,
    SubscriptionPaginatedResponse,
)
