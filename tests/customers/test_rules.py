"""The customer rules (SPEC §1), called directly."""

import pytest
from email_validator import EmailNotValidError, validate_email

from app.common import Address
from app.customers import lifecycle as customer_lifecycle
from app.customers import listing as customer_listing
from app.customers import rules
from app.customers.listing import CustomerFilters
from app.customers.rules import CustomerInput
from app.problems import Conflict, Invalid, NotFound, PreconditionFailed, StaleEdit
from tests.helpers import fields_of

pytestmark = pytest.mark.usefixtures("ctx")


def make(name="Acme", key="acme", subjects=(), **fields) -> rules.Customer:
    return rules.create(CustomerInput(name=name, key=key, subject_keys=list(subjects), **fields))


def test_create_assigns_a_ulid_and_keeps_every_field():
    customer = make(
        name="  Acme Inc  ",
        subjects=["acme", "acme-eu"],
        description="Big one",
        primary_email="billing@acme.example",
        currency="eur",
        billing_address=Address(country="hu", city="Budapest", line1="Andrássy út 1"),
        metadata={"tier": "gold"},
    )
    assert len(customer.id) == 26
    assert customer.name == "Acme Inc"
    assert customer.currency == "EUR"
    assert customer.address_country == "HU"
    assert customer.subject_keys == ["acme", "acme-eu"]
    assert customer.metadata_ == {"tier": "gold"}
    assert customer.version == 1


def test_every_plain_field_is_saved_recorded_and_in_both_shapes():
    """A new plain field is a line in CustomerInput (and in the API shape): this fails when one is missed."""
    from pydantic.alias_generators import to_camel

    from app.customers import schemas

    for name in rules.PLAIN_FIELDS:
        assert name in schemas.CustomerCreate.model_fields and name in schemas.Customer.model_fields, name
    customer = make(description="Big one", primary_email="billing@acme.example", currency="EUR")
    shown = schemas.Customer.of(customer)
    recorded = rules.snapshot(customer)
    for name in rules.PLAIN_FIELDS:
        assert getattr(shown, name) == getattr(customer, name) == recorded[to_camel(name)] is not None, name
    assert schemas.CustomerCreate(**shown.model_dump()).to_input() == CustomerInput(
        name="Acme", key="acme", description="Big one", primary_email="billing@acme.example", currency="EUR"
    )


def test_a_customer_needs_a_key_or_a_subject():
    with pytest.raises(Invalid) as e:
        make(key=None, subjects=[])
    assert fields_of(e.value) == {"key": "key_or_subject_required"}
    assert make(key=None, subjects=["only-subject"]).key is None


@pytest.mark.parametrize(
    ("changes", "field", "code"),
    [
        ({"name": "   "}, "name", "required"),
        ({"name": "x" * 257}, "name", "too_long"),
        ({"key": ""}, "key", "empty"),
        ({"key": " padded"}, "key", "whitespace"),
        ({"key": "k" * 257}, "key", "too_long"),
        ({"key": "nul\x00"}, "key", "invalid_characters"),
        ({"key": "lone\ud800surrogate"}, "key", "invalid_characters"),
        ({"description": "d" * 1025}, "description", "too_long"),
        ({"primary_email": "not-an-email"}, "primaryEmail", "invalid_email"),
        ({"currency": "ZZZ"}, "currency", "unknown_currency"),
        ({"currency": "XAU"}, "currency", "unknown_currency"),
        ({"billing_address": Address(country="XX")}, "billingAddress.country", "unknown_country"),
        ({"billing_address": Address(city="c" * 257)}, "billingAddress.city", "too_long"),
        ({"subject_keys": ["a", "a"]}, "usageAttribution.subjectKeys[1]", "duplicate"),
        ({"subject_keys": [""]}, "usageAttribution.subjectKeys[0]", "required"),
        ({"subject_keys": ["s" * 257]}, "usageAttribution.subjectKeys[0]", "too_long"),
        ({"metadata": {"k" * 41: "v"}}, "metadata." + "k" * 41, "too_long"),
        ({"metadata": {"k": "v" * 501}}, "metadata.k", "too_long"),
        ({"metadata": {f"k{i}": "v" for i in range(51)}}, "metadata", "too_many"),
        ({"metadata": {"": "v"}}, "metadata.", "invalid_key"),
    ],
)
def test_each_bad_field_is_named(changes, field, code):
    data = {"name": "Acme", "key": "acme", **changes}
    with pytest.raises(Invalid) as e:
        rules.create(CustomerInput(**data))
    assert fields_of(e.value).get(field) == code, e.value.errors


def test_every_bad_field_is_reported_at_once():
    with pytest.raises(Invalid) as e:
        rules.create(CustomerInput(name="", key="", currency="nope", primary_email="x"))
    assert set(fields_of(e.value)) == {"name", "key", "currency", "primaryEmail"}


def test_limits_are_inclusive():
    customer = make(
        name="n" * 256,
        key="k" * 256,
        description="d" * 1024,
        metadata={f"{i:02d}" + "k" * 38: "v" * 500 for i in range(50)},
    )
    assert len(customer.metadata_) == 50


def test_keys_are_case_sensitive_and_unique_among_live_customers():
    first = make(key="acme")
    assert make(name="Other", key="ACME").key == "ACME"
    with pytest.raises(Conflict) as e:
        make(name="Dup", key="acme")
    assert e.value.errors[0].field == "key"
    assert e.value.errors[0].holder_id == first.id
    assert first.id in e.value.detail and "Acme" in e.value.detail


def test_key_may_equal_its_own_subject_but_not_anothers():
    owner = make(key="acme", subjects=["acme"])
    assert owner.subject_keys == ["acme"]
    with pytest.raises(Conflict) as e:
        make(name="Other", key="acme-2", subjects=["acme"])
    assert e.value.errors[0].field == "usageAttribution.subjectKeys[0]"
    assert e.value.errors[0].holder_id == owner.id
    other = make(name="Other", key="other", subjects=["other-1"])
    with pytest.raises(Conflict) as e:
        make(name="Third", key="other-1")
    assert "subject key" in e.value.errors[0].message and e.value.errors[0].holder_id == other.id


def test_key_may_not_equal_any_customer_id():
    existing = make()
    with pytest.raises(Conflict) as e:
        make(name="Other", key=existing.id)
    assert "id of customer" in e.value.errors[0].message


def test_soft_delete_frees_key_and_subjects_and_keeps_the_customer_readable():
    customer = make(key="acme", subjects=["acme", "acme-eu"])
    customer_lifecycle.delete("acme")
    assert rules.get(customer.id).deleted_at is not None
    with pytest.raises(NotFound):
        rules.get("acme")  # a key finds live customers only
    reused = make(name="New Acme", key="acme", subjects=["acme-eu"])
    assert rules.find_by_key("acme").id == reused.id
    assert rules.get(customer.id).subject_keys == ["acme", "acme-eu"]


def test_writes_to_a_deleted_customer_are_refused():
    customer = make()
    customer_lifecycle.delete(customer.id)
    with pytest.raises(PreconditionFailed):
        customer_lifecycle.replace(customer.id, CustomerInput(name="x", key="x"))
    with pytest.raises(PreconditionFailed):
        customer_lifecycle.delete(customer.id)


def test_replace_clears_omitted_fields_and_keeps_own_values():
    customer = make(key="acme", subjects=["acme", "b"], currency="USD", metadata={"a": "1"})
    replaced = customer_lifecycle.replace("acme", CustomerInput(name="Acme 2", key="acme", subject_keys=["b", "c"]))
    assert replaced.id == customer.id
    assert replaced.currency is None and replaced.metadata_ == {}
    assert replaced.subject_keys == ["b", "c"]
    assert replaced.version == 2


def test_replace_can_swap_key_and_subject_roles():
    make(key="a", subjects=["b"])
    swapped = customer_lifecycle.replace("a", CustomerInput(name="Acme", key="b", subject_keys=["a"]))
    assert swapped.key == "b" and swapped.subject_keys == ["a"]


def test_replace_from_a_stale_copy_is_refused():
    customer = make()
    customer_lifecycle.replace(customer.id, CustomerInput(name="First edit", key="acme"), expected_version=1)
    with pytest.raises(StaleEdit):
        customer_lifecycle.replace(customer.id, CustomerInput(name="Second edit", key="acme"), expected_version=1)
    assert rules.get(customer.id).name == "First edit"


def test_find_by_key_is_exact():
    make(key="acme")
    assert rules.find_by_key("acme") is not None
    assert rules.find_by_key("ACME") is None
    assert rules.find_by_key("acm") is None


def test_list_filters_and_orders():
    make(name="Bravo", key="b", subjects=["shared-subject-1"], currency="EUR", primary_email="ops@bravo.example")
    make(name="alpha", key="a", currency="USD")
    deleted = make(name="Charlie", key="c")
    customer_lifecycle.delete(deleted.id)

    def names(**kw):
        order = kw.pop("order_by", "name")
        desc = kw.pop("descending", False)
        return [
            c.name
            for c in customer_listing.list_customers(CustomerFilters(**kw), order_by=order, descending=desc).items
        ]

    assert names() == ["alpha", "Bravo"]  # as people sort names, not by code point
    assert names(include_deleted=True, order_by="createdAt") == ["Bravo", "alpha", "Charlie"]
    assert names(order_by="createdAt", descending=True) == ["alpha", "Bravo"]
    assert names(name="BRAV") == ["Bravo"]
    assert names(primary_email="BRAVO.EX") == ["Bravo"]
    assert names(subject="SUBJECT-1") == ["Bravo"]
    assert names(search="shared") == ["Bravo"]
    assert names(currency="USD") == ["alpha"]
    assert names(has_subjects=True) == ["Bravo"]
    assert names(has_subjects=False) == ["alpha"]
    assert names(key="B") == []
    assert names(name="%") == []  # LIKE wildcards are matched literally
    assert names(name="\x00") == []


def test_paging_counts_and_slices():
    for i in range(7):
        make(name=f"Customer {i}", key=f"k{i}")
    page = customer_listing.list_customers(CustomerFilters(), page=2, page_size=3)
    assert [c.key for c in page.items] == ["k3", "k4", "k5"]
    assert (page.total, page.first, page.last, page.pages) == (7, 4, 6, 3)


@pytest.mark.parametrize(
    "email",
    [
        "billing@example.com",
        "user+tag@mail.example.co.uk",
        "o'brien@example.ie",
        "a..b@example.com",
        ".a@example.com",
        "a.@example.com",
        "x" * 64 + "@example.com",
        "x" * 65 + "@example.com",
        "a@" + "b" * 63 + "." + "c" * 63 + "." + "d" * 63 + "." + "e" * 57 + ".com",
        "a@localhost",
        "a@example.local",
        "a@example",
        "a@-example.com",
        "a@exa_mple.com",
        "a@123.456",
        "a@[192.0.2.1]",
        "a@b@example.com",
        "zoë@example.com",
        "a@bücher.example",
        "a@xn--bcher-kva.example",
        '"quoted"@example.com',
    ],
)
def test_the_quick_email_check_agrees_with_email_validator(email):
    """Plain addresses skip the whole validation (an import checks a million): the answer must be
    email_validator's own."""
    try:
        validate_email(email, check_deliverability=False)
        valid = True
    except EmailNotValidError:
        valid = False
    assert (rules.check_email(email) == []) is valid
