"""What a change to a customer means for the other areas, in one place (SPEC §1, §2, §3, §5).

The customer rules know only customers. The operations here span areas, and each names what it
touches: subscriptions (plans) hold the currency fixed and forbid a delete; a delete takes the
customer's app data (apps) and its billing profile pin (billing) with it, in one transaction.
"""

from collections.abc import Callable

from app.apps import customer_data
from app.billing import overrides
from app.customers import rules
from app.customers.models import Customer
from app.customers.rules import CustomerInput, describe
from app.extensions import db, utcnow
from app.plans.rules import active_subscription
from app.problems import Conflict, FieldError
from app.store import unit_of_work


def replace(id_or_key: str, data: CustomerInput, expected_version: int | None = None) -> Customer:
    """The customer rules' replace, with the currency held fixed while a subscription is active."""
    customer = rules.get(id_or_key)
    locked = currency_lock(customer, rules.normalised_currency(data.currency))
    return rules.replace(customer.id, data, expected_version, locked)


def currency_lock(customer: Customer, currency: str | None) -> list[FieldError]:
    """SPEC §5: while a subscription is active, the customer's currency cannot change.

    Subscribing writes the customer row too, so a subscription started after this check makes the
    edit fail on its version instead of slipping past the lock.
    """
    if currency == customer.currency:
        return []
    subscription = active_subscription(customer.id)
    if subscription is None:
        return []
    message = (
        f"The currency cannot change while customer {describe(customer)} has an active subscription, to plan "
        f'"{subscription.plan.name}" in {subscription.currency} ({subscription.id}); cancel it first.'
    )
    return [FieldError("currency", "locked_by_subscription", message)]


def delete(id_or_key: str, expected_version: int | None = None) -> Customer:
    """Soft-delete a customer, with its app data and its billing profile pin (SPEC §2, §3), in one
    transaction. Refused (Conflict) while it has an active subscription (SPEC §5). Raises NotFound,
    PreconditionFailed when it is already deleted, or StaleEdit (not at `expected_version`)."""
    customer = rules.live(id_or_key, expected_version)
    subscription = active_subscription(customer.id)
    if subscription is not None:
        message = (
            f'Customer {describe(customer)} has an active subscription, to plan "{subscription.plan.name}" '
            f"({subscription.id}); cancel the subscription before deleting the customer."
        )
        raise Conflict([FieldError("currentSubscriptionId", "active_subscription", message)])
    stale = "This customer was changed by someone else meanwhile; reload it and try again."
    # No flush before the commit: the version check must fail there, not inside a statement below.
    with unit_of_work(stale=stale), db.session.no_autoflush:
        rules.mark_deleted(customer, utcnow())
        customer_data.remove_for_customer(customer.id)
        overrides.remove_for_customer(customer.id)
    return customer


def save_with_billing(
    save: Callable[[], Customer], profile_id: str | None, expected_billing_version: int | None = None
) -> Customer:
    """Create or replace a customer (`save`) and choose the billing profile that bills it (None:
    the default), in one transaction: a refused choice saves nothing (SPEC §3)."""
    with unit_of_work():
        customer = save()
        overrides.choose(customer.id, profile_id, expected_billing_version)
    return customer
