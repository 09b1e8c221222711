"""The plan and subscription rules (SPEC §5), and the customer rules they guard, called directly."""

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from app.customers import lifecycle as customer_lifecycle
from app.customers import listing as customer_listing
from app.customers import rules as customers
from app.customers.listing import CustomerFilters
from app.customers.rules import CustomerInput
from app.extensions import db, utcnow
from app.plans import rules
from app.plans.models import Subscription, describe_cadence
from app.plans.rules import PlanInput, parse_amount
from app.problems import Conflict, Invalid, NotFound, PreconditionFailed, StaleEdit
from tests.helpers import fields_of

pytestmark = pytest.mark.usefixtures("ctx")


def plan(key="pro_eur", currency="EUR", amount="49.00", name=None, cadence="P1M", **fields):
    return rules.create_plan(
        PlanInput(
            name=name or key or "Plan", key=key, currency=currency, amount=amount, billing_cadence=cadence, **fields
        )
    )


def customer(key="acme", currency="EUR", name="Acme"):
    return customers.create(CustomerInput(name=name, key=key, currency=currency))


# --- Money and cadence ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "currency", "minor"),
    [
        ("12.50", "EUR", 1250),
        ("12.5", "EUR", 1250),
        ("12", "EUR", 1200),
        ("0", "EUR", 0),
        ("007.05", "USD", 705),
        ("1200", "JPY", 1200),
        ("1.234", "BHD", 1234),
        ("999999999999.99", "EUR", 99999999999999),
    ],
)
def test_amounts_become_exact_minor_units(text, currency, minor):
    assert parse_amount(text, currency) == (minor, [])


@pytest.mark.parametrize(
    ("text", "currency", "code"),
    [
        ("12.505", "EUR", "too_many_decimals"),
        ("12.500", "EUR", "too_many_decimals"),
        ("12.5", "JPY", "too_many_decimals"),
        ("1.2345", "BHD", "too_many_decimals"),
        ("-1", "EUR", "invalid_amount"),
        ("1e3", "EUR", "invalid_amount"),
        ("12,50", "EUR", "invalid_amount"),
        ("€12", "EUR", "invalid_amount"),
        ("12.", "EUR", "invalid_amount"),
        (".5", "EUR", "invalid_amount"),
        ("NaN", "EUR", "invalid_amount"),
        ("", "EUR", "required"),
        ("1000000000000", "EUR", "too_large"),
    ],
)
def test_bad_amounts_are_refused_not_rounded(text, currency, code):
    minor, errors = parse_amount(text, currency)
    assert minor is None and [(e.field, e.code) for e in errors] == [("price.amount", code)]


def test_the_decimals_message_names_the_currency():
    _, errors = parse_amount("1200.5", "JPY")
    assert errors[0].message == 'A price in JPY has no decimals; "1200.5" has 1.'
    _, errors = parse_amount("1.999", "EUR")
    assert errors[0].message == 'A price in EUR has at most 2 decimals; "1.999" has 3.'


def test_amounts_are_shown_with_the_currencys_decimals():
    assert plan(key="a", currency="EUR", amount="12.5").amount_text == "12.50"
    assert plan(key="b", currency="JPY", amount="1200").amount_text == "1200"
    assert plan(key="c", currency="BHD", amount="1.5").amount_text == "1.500"
    assert plan(key="d", currency="USD", amount="0").amount_text == "0.00"


@pytest.mark.parametrize(
    ("cadence", "words"),
    [("P1M", "month"), ("P3M", "3 months"), ("P1Y", "year"), ("P2W", "2 weeks"), ("P1Y6M", "1 year 6 months")],
)
def test_cadences_read_as_words(cadence, words):
    assert describe_cadence(cadence) == words


def test_price_text_says_amount_currency_and_cadence():
    assert plan(amount="49", cadence="p3m").price_text == "€49.00 every 3 months"


# --- Plans ------------------------------------------------------------------------------------


def test_create_keeps_every_field():
    created = plan(key="pro_monthly", name="  Pro  ", currency="eur", amount="49.90", description="The one")
    assert len(created.id) == 26
    assert (created.key, created.name, created.currency, created.amount) == ("pro_monthly", "Pro", "EUR", 4990)
    assert created.billing_cadence == "P1M" and created.description == "The one"


@pytest.mark.parametrize("key", ["pro", "pro_monthly", "p2", "2024", "a" * 64, "a_b_c"])
def test_good_keys(key):
    assert plan(key=key).key == key


@pytest.mark.parametrize(
    ("key", "code"),
    [
        ("Pro", "invalid_key"),
        ("pro-monthly", "invalid_key"),
        ("_pro", "invalid_key"),
        ("pro_", "invalid_key"),
        ("pro__monthly", "invalid_key"),
        ("pró", "invalid_key"),
        ("pro monthly", "invalid_key"),
        ("a" * 65, "too_long"),
        ("", "required"),
    ],
)
def test_bad_keys_are_named(key, code):
    with pytest.raises(Invalid) as e:
        plan(key=key)
    assert fields_of(e.value) == {"key": code}


@pytest.mark.parametrize("cadence", ["P", "P0M", "1M", "PT1H", "monthly", "P1M1", "", "P" + "1" * 40 + "D"])
def test_bad_cadences_are_named(cadence):
    with pytest.raises(Invalid) as e:
        plan(cadence=cadence)
    assert fields_of(e.value) == {"billingCadence": "invalid_cadence" if cadence else "required"}


def test_every_bad_field_is_reported_at_once():
    with pytest.raises(Invalid) as e:
        rules.create_plan(PlanInput(name=" ", key="Bad Key", currency="ZZZ", amount="x", billing_cadence="monthly"))
    assert fields_of(e.value) == {
        "name": "required",
        "key": "invalid_key",
        "currency": "unknown_currency",
        "price.amount": "invalid_amount",
        "billingCadence": "invalid_cadence",
    }
    with pytest.raises(Invalid) as e:
        rules.create_plan(PlanInput(name="A", key="a", billing_cadence="P1M", amount="1"))
    assert fields_of(e.value) == {"currency": "required"}


def test_keys_are_unique_among_live_plans_and_freed_by_delete():
    first = plan(key="pro", name="Pro")
    with pytest.raises(Conflict) as e:
        plan(key="pro", currency="USD")
    assert fields_of(e.value) == {"key": "conflict"} and '"Pro" (pro)' in e.value.detail
    rules.delete_plan("pro")
    second = plan(key="pro", currency="USD")
    assert rules.get_plan("pro").id == second.id
    assert rules.get_plan(first.id).deleted_at is not None  # by id, a deleted plan is still there


def test_get_plan_by_id_or_key():
    created = plan(key="pro")
    assert rules.get_plan(created.id) is created and rules.get_plan("pro") is created
    for missing in ("nope", "PRO", "01ZZZZZZZZZZZZZZZZZZZZZZZZ", "nul\x00"):
        with pytest.raises(NotFound):
            rules.get_plan(missing)


def test_replace_changes_name_price_and_cadence_and_clears_description():
    created = plan(key="pro", description="old")
    replaced = rules.replace_plan("pro", PlanInput(name="Pro 2", amount="59.5", billing_cadence="P1Y"))
    assert replaced.id == created.id and replaced.version == 2
    assert (replaced.name, replaced.amount, replaced.billing_cadence, replaced.description) == (
        "Pro 2",
        5950,
        "P1Y",
        None,
    )
    same = rules.replace_plan(
        "pro", PlanInput(name="Pro 3", key="pro", currency="eur", amount="1", billing_cadence="P1M")
    )
    assert same.name == "Pro 3"  # giving the current key and currency is fine


def test_key_and_currency_of_a_plan_cannot_change():
    plan(key="pro")
    with pytest.raises(Invalid) as e:
        rules.replace_plan("pro", PlanInput(name="Pro", key="pro2", currency="USD", amount="1", billing_cadence="P1M"))
    assert fields_of(e.value) == {"key": "immutable", "currency": "immutable"}
    assert "create a new plan" in e.value.errors[1].message


def test_replace_checks_the_amount_against_the_plans_currency():
    plan(key="yen", currency="JPY", amount="1000")
    with pytest.raises(Invalid) as e:
        rules.replace_plan("yen", PlanInput(name="Yen", amount="1000.5", billing_cadence="P1M"))
    assert fields_of(e.value) == {"price.amount": "too_many_decimals"}


def test_stale_and_deleted_plans_are_not_replaced():
    created = plan(key="pro")
    rules.replace_plan(created.id, PlanInput(name="First", amount="1", billing_cadence="P1M"), expected_version=1)
    with pytest.raises(StaleEdit):
        rules.replace_plan(created.id, PlanInput(name="Second", amount="1", billing_cadence="P1M"), expected_version=1)
    rules.delete_plan(created.id)
    with pytest.raises(PreconditionFailed):
        rules.replace_plan(created.id, PlanInput(name="Third", amount="1", billing_cadence="P1M"))
    with pytest.raises(PreconditionFailed):
        rules.delete_plan(created.id)


def test_a_plan_with_active_subscriptions_cannot_be_deleted():
    pro = plan(key="pro", name="Pro")
    acme = customer(name="Acme Ltd")
    subscription = rules.subscribe("pro", customer_id=acme.id)
    with pytest.raises(Conflict) as e:
        rules.delete_plan("pro")
    assert '"Acme Ltd"' in e.value.detail and "cancel them or move" in e.value.detail
    assert rules.get_plan(pro.id).deleted_at is None
    rules.cancel(subscription.id)
    assert rules.delete_plan("pro").deleted_at is not None


def test_list_plans_filters_orders_and_pages():
    plan(key="b", currency="USD")
    plan(key="a", currency="EUR")
    gone = plan(key="c", currency="EUR")
    rules.delete_plan(gone.id)

    def keys(**kw):
        return [p.key for p in rules.list_plans(**kw).items]

    assert keys() == ["a", "b"]
    assert keys(include_deleted=True, order_by="created_at", descending=True) == ["c", "a", "b"]
    assert keys(currency_codes=["EUR"]) == ["a"]
    assert keys(keys=["b", "c"]) == ["b"]
    assert keys(keys=["\x00"]) == []
    page = rules.list_plans(page=2, page_size=1)
    assert (page.total, [p.key for p in page.items]) == (2, ["b"])


# --- Subscribing and the currency rule ---------------------------------------------------------


def test_subscribe_a_customer_to_a_plan_in_its_currency():
    acme = customer(currency="EUR")
    pro = plan(key="pro", currency="EUR")
    subscription = rules.subscribe("pro", customer_id=acme.id)
    assert (subscription.customer_id, subscription.plan_id, subscription.currency) == (acme.id, pro.id, "EUR")
    assert subscription.is_active and subscription.status == "active"
    assert rules.active_subscription(acme.id).id == subscription.id


def test_a_plan_in_another_currency_is_refused_naming_both_currencies():
    acme = customer(currency="EUR")
    plan(key="pro_usd", currency="USD", name="Pro US")
    with pytest.raises(Invalid) as e:
        rules.subscribe("pro_usd", customer_id=acme.id)
    assert fields_of(e.value) == {"plan.key": "currency_mismatch"}
    assert e.value.detail == (
        'Plan "Pro US" (pro_usd) is priced in USD, but customer "Acme" pays in EUR: '
        "a customer can only subscribe to plans in its own currency."
    )
    assert rules.active_subscription(acme.id) is None


def test_a_customer_without_currency_takes_the_plans_on_its_first_subscription():
    acme = customer(currency=None)
    plan(key="pro_usd", currency="USD")
    plan(key="pro_eur", currency="EUR")
    subscription = rules.subscribe("pro_usd", customer_key="acme")
    db.session.expire_all()
    assert customers.get(acme.id).currency == "USD" and subscription.currency == "USD"
    rules.cancel(subscription.id)
    with pytest.raises(Invalid):  # from now on it pays in USD
        rules.subscribe("pro_eur", customer_id=acme.id)


def test_taking_the_currency_is_undone_with_a_refused_subscription(monkeypatch):
    """The currency and the subscription are written in one transaction: both or neither."""
    acme = customer(currency=None)
    pro = plan(key="pro", currency="USD")
    rules.delete_plan(pro.id)  # …after the subscriber looked it up: the re-read under lock notices
    monkeypatch.setattr(rules, "find_plan_by_key", lambda key: db.session.get(rules.Plan, pro.id))
    with pytest.raises(NotFound, match="deleted meanwhile"):
        rules.subscribe("pro", customer_id=acme.id)
    db.session.expire_all()
    assert customers.get(acme.id).currency is None
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Subscription)) == 0


def test_at_most_one_active_subscription_per_customer():
    acme = customer()
    plan(key="pro", name="Pro")
    plan(key="basic")
    first = rules.subscribe("pro", customer_id=acme.id)
    with pytest.raises(Conflict) as e:
        rules.subscribe("basic", customer_id=acme.id)
    assert fields_of(e.value) == {"customerId": "active_subscription"}
    assert first.id in e.value.detail and '"Pro" (pro)' in e.value.detail


def test_the_database_itself_refuses_a_second_active_subscription():
    acme = customer()
    pro = plan(key="pro")
    rules.subscribe("pro", customer_id=acme.id)
    now = utcnow()
    db.session.add(
        Subscription(
            id="01ARZ3NDEKTSV4RRFFQ69G5FAV",
            customer_id=acme.id,
            plan_id=pro.id,
            currency="EUR",
            active_from=now,
            created_at=now,
            updated_at=now,
        )
    )
    with pytest.raises(IntegrityError):
        db.session.commit()
    db.session.rollback()


@pytest.mark.parametrize(
    ("kwargs", "problem"),
    [
        ({"customer_id": "01ZZZZZZZZZZZZZZZZZZZZZZZZ"}, NotFound),
        ({"customer_key": "nobody"}, NotFound),
        ({}, Invalid),
    ],
)
def test_subscribe_needs_an_existing_customer(kwargs, problem):
    plan(key="pro")
    with pytest.raises(problem):
        rules.subscribe("pro", **kwargs)


def test_subscribe_needs_a_live_plan_and_a_live_customer():
    acme = customer()
    plan(key="pro")
    with pytest.raises(NotFound):
        rules.subscribe("nope", customer_id=acme.id)
    with pytest.raises(Invalid):
        rules.subscribe("", customer_id=acme.id)
    customer_lifecycle.delete(acme.id)
    with pytest.raises(PreconditionFailed):
        rules.subscribe("pro", customer_id=acme.id)


def test_customer_id_wins_over_customer_key():
    acme = customer(key="acme")
    other = customer(key="other", name="Other")
    plan(key="pro")
    assert rules.subscribe("pro", customer_id=other.id, customer_key="acme").customer_id == other.id
    assert rules.active_subscription(acme.id) is None


# --- Changing plan and cancelling --------------------------------------------------------------


def test_change_plan_ends_the_old_and_starts_the_new_at_the_same_moment():
    acme = customer()
    plan(key="basic")
    pro = plan(key="pro")
    old = rules.subscribe("basic", customer_id=acme.id)
    ended, new = rules.change_plan(old.id, "pro")
    assert ended.id == old.id and ended.status == "inactive" and ended.active_to == new.active_from
    assert new.plan_id == pro.id and new.is_active
    assert rules.active_subscription(acme.id).id == new.id
    assert [s.id for s in rules.history(acme.id)] == [new.id, old.id]
    with pytest.raises(PreconditionFailed):
        rules.change_plan(old.id, "basic")


def test_change_plan_is_one_transaction(monkeypatch):
    """If starting the new subscription fails, the old one is not ended."""
    acme = customer()
    plan(key="basic")
    plan(key="pro")
    old = rules.subscribe("basic", customer_id=acme.id)

    def refuse(*args):
        raise NotFound("the new plan went away")

    monkeypatch.setattr(rules, "_start", refuse)
    with pytest.raises(NotFound):
        rules.change_plan(old.id, "pro")
    db.session.expire_all()
    assert rules.active_subscription(acme.id).id == old.id


def test_change_plan_keeps_the_currency_rule_and_refuses_the_same_plan():
    acme = customer(currency="EUR")
    plan(key="basic")
    plan(key="pro_usd", currency="USD")
    old = rules.subscribe("basic", customer_id=acme.id)
    with pytest.raises(Invalid) as e:
        rules.change_plan(old.id, "pro_usd")
    assert fields_of(e.value) == {"plan.key": "currency_mismatch"} and "USD" in e.value.detail
    with pytest.raises(Invalid) as e:
        rules.change_plan(old.id, "basic")
    assert fields_of(e.value) == {"plan.key": "same_plan"}
    with pytest.raises(NotFound):
        rules.change_plan("01ZZZZZZZZZZZZZZZZZZZZZZZZ", "basic")
    assert rules.active_subscription(acme.id).id == old.id


def test_cancel_ends_the_subscription_once():
    acme = customer()
    plan(key="pro")
    subscription = rules.subscribe("pro", customer_id=acme.id)
    ended = rules.cancel(subscription.id)
    assert ended.active_to is not None and ended.status == "inactive"
    assert rules.active_subscription(acme.id) is None
    with pytest.raises(PreconditionFailed):
        rules.cancel(subscription.id)
    assert rules.subscribe("pro", customer_id=acme.id).is_active  # and it can subscribe again


# --- What an active subscription forbids the customer ------------------------------------------


def test_a_subscribed_customer_cannot_be_deleted_until_cancelled():
    acme = customer(name="Acme")
    plan(key="pro", name="Pro")
    subscription = rules.subscribe("pro", customer_id=acme.id)
    with pytest.raises(Conflict) as e:
        customer_lifecycle.delete(acme.id)
    assert fields_of(e.value) == {"currentSubscriptionId": "active_subscription"}
    assert '"Pro"' in e.value.detail and subscription.id in e.value.detail
    assert customers.get(acme.id).deleted_at is None
    rules.cancel(subscription.id)
    assert customer_lifecycle.delete(acme.id).deleted_at is not None


def test_a_subscribed_customers_currency_is_locked():
    acme = customer(currency="EUR")
    plan(key="pro")
    subscription = rules.subscribe("pro", customer_id=acme.id)
    for currency in ("USD", None):
        with pytest.raises(Conflict) as e:
            customer_lifecycle.replace(acme.id, CustomerInput(name="Acme", key="acme", currency=currency))
        assert fields_of(e.value) == {"currency": "locked_by_subscription"} and subscription.id in e.value.detail
    # Other changes are fine, and a bad field is reported together with the lock.
    assert (
        customer_lifecycle.replace(acme.id, CustomerInput(name="Acme 2", key="acme", currency="EUR")).name == "Acme 2"
    )
    with pytest.raises(Invalid) as e:
        customer_lifecycle.replace(acme.id, CustomerInput(name="", key="acme", currency="USD"))
    assert fields_of(e.value) == {"name": "required", "currency": "locked_by_subscription"}
    rules.cancel(subscription.id)
    assert customer_lifecycle.replace(acme.id, CustomerInput(name="Acme", key="acme", currency="USD")).currency == "USD"


def test_an_edit_from_before_the_subscription_is_stale():
    """Subscribing writes the customer row, so an edit loaded before it cannot slip past the lock."""
    acme = customer(currency="EUR")
    plan(key="pro")
    loaded_version = acme.version
    rules.subscribe("pro", customer_id=acme.id)
    with pytest.raises(StaleEdit):
        customer_lifecycle.replace(acme.id, CustomerInput(name="Acme", key="acme", currency="EUR"), loaded_version)


# --- Lists --------------------------------------------------------------------------------------


def test_customers_are_filtered_by_the_key_of_their_current_plan():
    plan(key="pro")
    plan(key="basic")
    for key, plan_key in (("a", "pro"), ("b", "basic"), ("c", None), ("d", "pro")):
        c = customer(key=key, name=key.upper())
        if plan_key:
            rules.subscribe(plan_key, customer_id=c.id)
    ended = rules.active_subscription(customers.get("d").id)
    rules.change_plan(ended.id, "basic")

    def names(plan_key):
        return [c.name for c in customer_listing.list_customers(CustomerFilters(plan_key=plan_key)).items]

    assert names("pro") == ["A"] and names("basic") == ["B", "D"] and names("nope") == []


def test_current_subscriptions_and_counts_come_in_one_query_each():
    pro = plan(key="pro")
    ids = []
    for i in range(3):
        c = customer(key=f"c{i}", name=f"C{i}")
        ids.append(c.id)
        if i:
            rules.subscribe("pro", customer_id=c.id)
    db.session.expire_all()
    statements = []

    def count(*args):
        statements.append(args[2])

    sa.event.listen(db.engine, "before_cursor_execute", count)
    try:
        current = rules.current_subscriptions(ids)
        plan_keys = {s.plan.key for s in current.values()}
        counts = rules.active_subscription_counts([pro.id])
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", count)
    assert set(current) == set(ids[1:]) and plan_keys == {"pro"} and counts == {pro.id: 2}
    assert len(statements) == 2, "\n---\n".join(statements)
