"""The billing profile rules (SPEC §3), called directly."""

import threading

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from app.apps import rules as apps_rules
from app.apps.models import InstalledApp
from app.billing import rules
from app.billing.models import BillingProfile
from app.billing.rules import AppIds, ProfileInput, Supplier, Workflow
from app.common import Address
from app.extensions import db
from app.ids import new_id
from app.problems import Conflict, Invalid, NotFound, PreconditionFailed, StaleEdit
from tests.helpers import fields_of

pytestmark = pytest.mark.usefixtures("ctx")


def sandbox_id() -> str:
    return rules.default_profile().app_id


def make(name="EU profile", default=False, app_id=None, workflow=None, **fields) -> BillingProfile:
    app_id = app_id or sandbox_id()
    fields.setdefault("supplier", Supplier(name="Acme Kft.", addresses=[Address(country="HU")]))
    return rules.create(
        ProfileInput(
            name=name, default=default, apps=AppIds(app_id, app_id, app_id), workflow=workflow or Workflow(), **fields
        )
    )


def live_defaults() -> list[BillingProfile]:
    return list(
        db.session.scalars(
            select(BillingProfile).where(BillingProfile.is_default.is_(True), BillingProfile.deleted_at.is_(None))
        )
    )


# --- the first start ---------------------------------------------------------------------------


def test_first_start_makes_a_default_profile_in_the_us_on_the_sandbox_app():
    profile = rules.default_profile()
    assert profile.is_default and profile.supplier_country == "US" and profile.supplier_name
    assert profile.app.type == "sandbox" and not profile.app.is_deleted
    assert profile.collection_interval == "PT1H" and profile.invoicing_due_after == "P30D"


def test_ensure_defaults_is_idempotent():
    apps_rules.ensure_defaults()
    apps_rules.ensure_defaults()
    assert db.session.scalar(select(func.count()).select_from(BillingProfile)) == 1
    assert db.session.scalar(select(func.count()).select_from(InstalledApp)) == 1


def test_ensure_defaults_racing_itself_leaves_one_sandbox_and_one_default(app):
    """Two gunicorn workers starting at once on an empty database."""
    db.session.execute(BillingProfile.__table__.delete())
    db.session.execute(InstalledApp.__table__.delete())
    db.session.commit()
    threads_count = 4
    barrier = threading.Barrier(threads_count)
    failures: list[BaseException] = []

    def worker():
        with app.app_context():
            barrier.wait()
            try:
                apps_rules.ensure_defaults()
            except BaseException as e:  # noqa: BLE001 - reported below
                failures.append(e)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=worker) for _ in range(threads_count)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    db.session.expire_all()
    assert failures == []
    assert len(live_defaults()) == 1
    assert db.session.scalar(select(func.count()).select_from(InstalledApp)) == 1


def test_ensure_defaults_does_not_bring_back_an_uninstalled_sandbox():
    stripe, _ = apps_rules.install("stripe", api_key="sk_test_" + "a" * 24)  # its profile becomes the default
    old = rules.list_profiles().items[0]
    rules.delete(old.id)
    apps_rules.uninstall(old.app_id)
    apps_rules.ensure_defaults()
    assert rules.default_profile().app_id == stripe.id
    assert [a.type for a in apps_rules.list_apps().items] == ["stripe"]


# --- create and its checks -----------------------------------------------------------------------


def test_create_keeps_every_field():
    profile = make(
        name="  EU profile  ",
        description="For EU customers",
        metadata={"region": "eu"},
        supplier=Supplier(
            name="Acme Kft.",
            tax_code="HU12345678",
            addresses=[Address(country="hu", city="Budapest", postal_code="1051", line1="Andrássy út 1")],
        ),
        workflow=Workflow(
            alignment="anchored",
            period_interval="month",
            period_anchor="2025-01-01T00:00:00+01:00",
            collection_interval="PT2H",
            auto_advance=False,
            draft_period="P1D",
            due_after="P14D",
            progressive_billing=False,
            tax_behavior="inclusive",
            collection_method="send_invoice",
            tax_enabled=True,
            tax_enforced=True,
        ),
    )
    assert len(profile.id) == 26 and profile.name == "EU profile" and not profile.is_default
    assert (profile.supplier_country, profile.supplier_city, profile.supplier_tax_code) == (
        "HU",
        "Budapest",
        "HU12345678",
    )
    assert profile.collection_period_interval == "MONTH"
    assert profile.collection_period_anchor.isoformat() == "2024-12-31T23:00:00+00:00"
    assert (profile.invoicing_draft_period, profile.invoicing_due_after) == ("P1D", "P14D")
    assert profile.invoicing_tax_behavior == "inclusive" and profile.payment_collection_method == "send_invoice"
    assert profile.tax_enforced and profile.version == 1


def test_workflow_defaults():
    profile = make()
    assert profile.collection_alignment == "subscription" and profile.collection_period_interval is None
    assert (profile.collection_interval, profile.invoicing_draft_period, profile.invoicing_due_after) == (
        "PT1H",
        "P0D",
        "P30D",
    )
    assert profile.invoicing_auto_advance and profile.invoicing_progressive_billing
    assert profile.payment_collection_method == "charge_automatically"
    assert profile.tax_enabled and not profile.tax_enforced and profile.invoicing_tax_behavior is None


def _bad_workflow(**changes) -> dict:
    return {"workflow": Workflow(**changes)}


@pytest.mark.parametrize(
    ("changes", "field", "code"),
    [
        ({"name": " "}, "name", "required"),
        ({"name": "n" * 257}, "name", "too_long"),
        ({"description": "d" * 1025}, "description", "too_long"),
        ({"metadata": {f"k{i}": "v" for i in range(51)}}, "metadata", "too_many"),
        ({"supplier": Supplier(addresses=[Address(country="US")])}, "supplier.name", "required"),
        (
            {"supplier": Supplier(name="S", tax_code="t" * 33, addresses=[Address(country="US")])},
            "supplier.taxId.code",
            "too_long",
        ),
        ({"supplier": Supplier(name="S")}, "supplier.addresses[0].country", "required"),
        (
            {"supplier": Supplier(name="S", addresses=[Address(city="Paris")])},
            "supplier.addresses[0].country",
            "required",
        ),
        (
            {"supplier": Supplier(name="S", addresses=[Address(country="XX")])},
            "supplier.addresses[0].country",
            "unknown_country",
        ),
        (
            {"supplier": Supplier(name="S", addresses=[Address(country="US"), Address(country="DE")])},
            "supplier.addresses",
            "too_many",
        ),
        (
            {"supplier": Supplier(name="S", addresses=[Address(country="US", city="c" * 257)])},
            "supplier.addresses[0].city",
            "too_long",
        ),
        (_bad_workflow(alignment="monthly"), "workflow.collection.alignment.type", "invalid"),
        (
            _bad_workflow(alignment="anchored", period_anchor="2025-01-01T00:00:00Z"),
            "workflow.collection.alignment.recurringPeriod.interval",
            "required",
        ),
        (
            _bad_workflow(alignment="anchored", period_interval="FORTNIGHT", period_anchor="2025-01-01T00:00:00Z"),
            "workflow.collection.alignment.recurringPeriod.interval",
            "invalid_duration",
        ),
        (
            _bad_workflow(alignment="anchored", period_interval="MONTH"),
            "workflow.collection.alignment.recurringPeriod.anchor",
            "required",
        ),
        (
            _bad_workflow(alignment="anchored", period_interval="MONTH", period_anchor="2025-01-01T00:00:00"),
            "workflow.collection.alignment.recurringPeriod.anchor",
            "invalid",
        ),
        (_bad_workflow(collection_interval="1 hour"), "workflow.collection.interval", "invalid_duration"),
        (_bad_workflow(collection_interval="PT0S"), "workflow.collection.interval", "out_of_range"),
        (_bad_workflow(collection_interval="P0D"), "workflow.collection.interval", "out_of_range"),
        (_bad_workflow(collection_interval="PT"), "workflow.collection.interval", "invalid_duration"),
        (_bad_workflow(collection_interval="P1DT"), "workflow.collection.interval", "invalid_duration"),
        (_bad_workflow(collection_interval=""), "workflow.collection.interval", "required"),
        (_bad_workflow(draft_period="-P1D"), "workflow.invoicing.draftPeriod", "out_of_range"),
        (_bad_workflow(due_after="P367D"), "workflow.invoicing.dueAfter", "out_of_range"),
        (_bad_workflow(due_after="P13M"), "workflow.invoicing.dueAfter", "out_of_range"),
        (_bad_workflow(due_after="P1000000000Y"), "workflow.invoicing.dueAfter", "out_of_range"),
        (_bad_workflow(due_after="P99999999999D"), "workflow.invoicing.dueAfter", "invalid_duration"),
        (_bad_workflow(due_after="P30D\x00"), "workflow.invoicing.dueAfter", "invalid_duration"),
        (_bad_workflow(tax_behavior="sometimes"), "workflow.invoicing.defaultTaxConfig.behavior", "invalid"),
        (_bad_workflow(collection_method="cash"), "workflow.payment.collectionMethod", "invalid"),
        (_bad_workflow(tax_enabled=False, tax_enforced=True), "workflow.tax.enforced", "requires_enabled"),
    ],
)
def test_each_bad_field_is_named(changes, field, code):
    with pytest.raises(Invalid) as e:
        make(**changes)
    assert fields_of(e.value).get(field) == code, e.value.errors


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("collection_interval", "P1Y"),
        ("collection_interval", "P12M"),
        ("collection_interval", "P366D"),
        ("collection_interval", "PT0.5S"),
        ("draft_period", "PT0S"),
        ("due_after", "P0D"),
        ("due_after", "P1W"),
        ("due_after", "pt36h"),
    ],
)
def test_duration_bounds_are_inclusive(field, value):
    assert make(workflow=Workflow(**{field: value})).id


def test_every_bad_field_is_reported_at_once():
    with pytest.raises(Invalid) as e:
        make(name="", supplier=Supplier(), workflow=Workflow(due_after="soon", tax_enabled=False, tax_enforced=True))
    assert {
        "name",
        "supplier.name",
        "supplier.addresses[0].country",
        "workflow.invoicing.dueAfter",
        "workflow.tax.enforced",
    } <= set(fields_of(e.value))


def test_the_apps_are_one_installed_app():
    sandbox = sandbox_id()
    other, _ = apps_rules.install("custom_invoicing", create_billing_profile=False)
    with pytest.raises(Invalid) as e:
        rules.create(ProfileInput(name="P", supplier=Supplier(name="S", addresses=[Address(country="US")])))
    assert fields_of(e.value) == {"apps": "required"}
    with pytest.raises(Invalid) as e:
        rules.create(
            ProfileInput(name="P", supplier=Supplier(name="S", addresses=[Address(country="US")]), apps=AppIds(sandbox))
        )
    assert fields_of(e.value) == {"apps.invoicing": "required", "apps.payment": "required"}
    with pytest.raises(Invalid) as e:
        rules.create(
            ProfileInput(
                name="P",
                supplier=Supplier(name="S", addresses=[Address(country="US")]),
                apps=AppIds(sandbox, other.id, sandbox),
            )
        )
    assert fields_of(e.value) == {"apps.invoicing": "same_app"}
    for missing in [new_id(), "not-an-id", "x\x00"]:
        with pytest.raises(Invalid) as e:
            make(app_id=missing)
        assert fields_of(e.value) == {"apps": "not_installed"}
    apps_rules.uninstall(other.id)
    with pytest.raises(Invalid) as e:
        make(app_id=other.id)
    assert fields_of(e.value) == {"apps": "not_installed"}


# --- the one default ------------------------------------------------------------------------------


def test_making_another_profile_default_demotes_the_old_one():
    old = rules.default_profile()
    old_version = old.version
    new = make(default=True)
    db.session.expire_all()
    assert [p.id for p in live_defaults()] == [new.id]
    assert not rules.get(old.id).is_default and rules.get(old.id).version == old_version + 1
    third = make(name="Third")
    rules.replace(
        third.id,
        ProfileInput(name="Third", supplier=Supplier(name="S", addresses=[Address(country="US")]), default=True),
    )
    assert [p.id for p in live_defaults()] == [third.id]


def test_the_database_refuses_a_second_live_default():
    """The rule holds even for a write that skips the rules."""
    extra = make()
    with pytest.raises(IntegrityError):
        db.session.execute(
            BillingProfile.__table__.update().where(BillingProfile.id == extra.id).values(is_default=True)
        )
    db.session.rollback()


def test_the_default_cannot_be_unset():
    default = rules.default_profile()
    with pytest.raises(Invalid) as e:
        rules.replace(
            default.id, ProfileInput(name="Renamed", supplier=Supplier(name="S", addresses=[Address(country="US")]))
        )
    assert fields_of(e.value) == {"default": "default_required"}
    assert "make another profile the default" in e.value.detail
    renamed = rules.replace(
        default.id,
        ProfileInput(name="Renamed", default=True, supplier=Supplier(name="S", addresses=[Address(country="US")])),
    )
    assert renamed.is_default and renamed.name == "Renamed"


def test_the_default_cannot_be_deleted():
    default = rules.default_profile()
    with pytest.raises(Invalid) as e:
        rules.delete(default.id)
    assert fields_of(e.value) == {"default": "is_default"}
    assert not rules.get(default.id).is_deleted


def test_a_profile_pinned_by_customers_cannot_be_deleted(monkeypatch):
    profile = make()
    monkeypatch.setattr(rules, "pinned_customer_names", lambda profile_id: ["Acme Inc", "Globex"])
    with pytest.raises(Invalid) as e:
        rules.delete(profile.id)
    assert fields_of(e.value) == {"id": "pinned"}
    assert '"Acme Inc"' in e.value.detail and '"Globex"' in e.value.detail
    assert rules.pinned_customer_names is not None


def test_no_customer_is_pinned_until_overrides_exist():
    assert rules.pinned_customer_names(make().id) == []


def test_a_refused_default_race_is_run_once_more():
    """What a PostgreSQL race looks like: the first try collides with a default made meanwhile."""
    intruder = make(name="Intruder")
    calls = []

    def attempt():
        calls.append(1)
        if len(calls) == 1:  # as if another transaction had made Intruder the default unseen
            db.session.execute(
                BillingProfile.__table__.update().where(BillingProfile.id == intruder.id).values(is_default=True)
            )
        else:
            rules._demote_default(rules.utcnow(), except_id=intruder.id)
            db.session.execute(
                BillingProfile.__table__.update().where(BillingProfile.id == intruder.id).values(is_default=True)
            )
        return "done"

    assert rules.commit_with_one_default(attempt) == "done" and len(calls) == 2
    assert [p.id for p in live_defaults()] == [intruder.id]


def test_a_default_race_lost_twice_is_a_conflict():
    intruder = make(name="Intruder")

    def attempt():
        db.session.execute(
            BillingProfile.__table__.update().where(BillingProfile.id == intruder.id).values(is_default=True)
        )

    with pytest.raises(Conflict) as e:
        rules.commit_with_one_default(attempt)
    assert fields_of(e.value) == {"default": "conflict"}
    assert len(live_defaults()) == 1


# --- replace, delete, get, list --------------------------------------------------------------


def test_replace_clears_omitted_fields_and_keeps_the_app():
    profile = make(
        description="old",
        metadata={"a": "1"},
        workflow=Workflow(
            tax_behavior="exclusive",
            due_after="P7D",
            alignment="anchored",
            period_interval="DAY",
            period_anchor="2025-01-01T00:00:00Z",
        ),
    )
    replaced = rules.replace(
        profile.id, ProfileInput(name="New", supplier=Supplier(name="S", addresses=[Address(country="US")]))
    )
    assert replaced.id == profile.id and replaced.app_id == profile.app_id
    assert replaced.description is None and replaced.metadata_ == {}
    assert replaced.invoicing_tax_behavior is None and replaced.invoicing_due_after == "P30D"
    assert replaced.collection_alignment == "subscription" and replaced.collection_period_anchor is None
    assert replaced.version == 2


def test_replace_cannot_change_the_apps():
    profile = make()
    other, _ = apps_rules.install("custom_invoicing", create_billing_profile=False)
    supplier = Supplier(name="S", addresses=[Address(country="US")])
    with pytest.raises(Invalid) as e:
        rules.replace(profile.id, ProfileInput(name="P", supplier=supplier, apps=AppIds(other.id, other.id, other.id)))
    assert set(fields_of(e.value)) == {"apps.tax", "apps.invoicing", "apps.payment"}
    same = AppIds(profile.app_id, profile.app_id, profile.app_id)
    assert rules.replace(profile.id, ProfileInput(name="P", supplier=supplier, apps=same)).name == "P"


def test_replace_from_a_stale_copy_is_refused():
    profile = make()
    supplier = Supplier(name="S", addresses=[Address(country="US")])
    rules.replace(profile.id, ProfileInput(name="First", supplier=supplier), expected_version=1)
    with pytest.raises(StaleEdit):
        rules.replace(profile.id, ProfileInput(name="Second", supplier=supplier), expected_version=1)


def test_delete_is_soft_and_a_deleted_profile_is_read_only():
    profile = make()
    rules.delete(profile.id)
    assert rules.get(profile.id).deleted_at is not None
    with pytest.raises(PreconditionFailed):
        rules.replace(
            profile.id, ProfileInput(name="x", supplier=Supplier(name="S", addresses=[Address(country="US")]))
        )
    with pytest.raises(PreconditionFailed):
        rules.delete(profile.id)
    assert profile.id not in [p.id for p in rules.list_profiles().items]
    assert profile.id in [p.id for p in rules.list_profiles(include_deleted=True).items]


@pytest.mark.parametrize("bad", ["", "nope", "0" * 26 + "0", "\x00", "01ARZ3NDEKTSV4RRFFQ69G5FA\x00", "u" * 26])
def test_get_with_a_bad_id_is_not_found(bad):
    with pytest.raises(NotFound):
        rules.get(bad)


def test_list_orders_and_pages():
    make(name="Bravo")
    make(name="Alpha", default=True)
    names = lambda **kw: [p.name for p in rules.list_profiles(**kw).items]  # noqa: E731
    assert names() == ["Default billing profile", "Bravo", "Alpha"]
    assert names(order_by="name") == ["Alpha", "Bravo", "Default billing profile"]
    assert names(order_by="default", descending=True)[0] == "Alpha"
    assert names(order_by="createdAt", descending=True, page=1, page_size=2) == ["Alpha", "Bravo"]
    page = rules.list_profiles(page=2, page_size=2)
    assert [p.name for p in page.items] == ["Alpha"] and page.total == 3
