"""One change to many customers at once: the selected rows of the list, or every customer its
search and filters match. A change is previewed first (how many it changes, how many it leaves as
they are, which it cannot change and why), then made one customer at a time through the same rules
as a single edit, each change recorded in the customer's history with the operator's reason and the
batch (the job) that made it. A finished batch can be undone where its change can be reversed.
"""

from collections.abc import Iterator
from dataclasses import dataclass, field, replace

from app.billing import overrides
from app.billing.models import BillingProfile
from app.common import METADATA_KEY_MAX, METADATA_MAX_KEYS, METADATA_VALUE_MAX, TAGS_MAX
from app.customers import lifecycle, listing, rules
from app.customers.listing import CustomerFilters
from app.customers.models import Customer
from app.extensions import db
from app.history.models import Change
from app.ids import is_id
from app.plans.rules import current_subscriptions
from app.problems import FieldError, Invalid, Problem
from app.text_rules import check_identifier, check_text

ACTIONS = {
    "pin": "Bill by a billing profile",
    "unpin": "Bill by the default billing profile",
    "metadata_set": "Set a metadata key",
    "metadata_remove": "Remove a metadata key",
    "tag_add": "Add a tag",
    "tag_remove": "Remove a tag",
    "delete": "Delete",
}
REASON_MAX = 500
REFUSALS_KEPT = 200  # listed on the preview and the result; the counts cover them all
BATCH = 200


@dataclass(frozen=True)
class BulkChange:
    """What to do to each customer: the action and what it needs."""

    action: str
    profile_id: str | None = None
    key: str | None = None  # metadata key
    value: str | None = None  # metadata value
    tag: str | None = None

    def check(self) -> None:
        """Raise Invalid unless the change can be made at all (each customer may still refuse it)."""
        errors: list[FieldError] = []
        if self.action not in ACTIONS:
            errors.append(FieldError("action", "invalid", "Choose what to do to the customers."))
        elif self.action == "pin":
            profile = db.session.get(BillingProfile, self.profile_id) if is_id(self.profile_id) else None
            if profile is None or profile.deleted_at is not None:
                errors.append(FieldError("profile", "invalid", "Choose a billing profile that exists."))
        elif self.action.startswith("metadata_"):
            check_identifier(errors, "key", self.key, METADATA_KEY_MAX, label="Metadata key", required=True)
            if self.action == "metadata_set":
                check_text(errors, "value", self.value, METADATA_VALUE_MAX, label="Value", required=True)
        elif self.action.startswith("tag_"):
            errors += [replace(e, field="tag") for e in rules.check_tags([self.tag or ""])]
        if errors:
            raise Invalid(errors)

    def describe(self, profile_name: str | None = None) -> str:
        """The change in words: "add the tag vip"."""
        return {
            "pin": f"bill by {profile_name or 'a billing profile'}",
            "unpin": "bill by the default billing profile",
            "metadata_set": f"set the metadata key {self.key} to “{self.value}”",
            "metadata_remove": f"remove the metadata key {self.key}",
            "tag_add": f"add the tag {self.tag}",
            "tag_remove": f"remove the tag {self.tag}",
            "delete": "delete them",
        }[self.action]

    def to_json(self) -> dict:
        return {k: v for k, v in vars(self).items() if v is not None}


@dataclass(frozen=True)
class Selection:
    """Which customers: the chosen ids, or (ids None) every customer the filters match."""

    filters: CustomerFilters
    ids: tuple[str, ...] | None = None

    def batches(self) -> Iterator[list[Customer]]:
        """The selected live customers, a batch at a time."""
        if self.ids is None:
            walk = listing.walk_ids(self.filters, batch=BATCH)
        else:
            wanted = [i for i in self.ids if is_id(i)]
            walk = (wanted[i : i + BATCH] for i in range(0, len(wanted), BATCH))
        for ids in walk:
            found = db.session.scalars(db.select(Customer).where(Customer.id.in_(ids))).all()
            yield [c for c in sorted(found, key=lambda c: ids.index(c.id)) if not c.is_deleted]

    def count(self) -> int:
        if self.ids is None:
            return listing.count_matching(self.filters)
        wanted = [i for i in self.ids if is_id(i)]
        live = Customer.deleted_at.is_(None)
        return db.session.scalar(db.select(db.func.count()).where(Customer.id.in_(wanted), live)) or 0

    def to_json(self) -> dict:
        return {"filters": self.filters.to_json(), "ids": list(self.ids) if self.ids is not None else None}

    @classmethod
    def of_json(cls, data: dict) -> "Selection":
        ids = data.get("ids")
        return cls(CustomerFilters.of_json(data["filters"]), tuple(ids) if ids is not None else None)


# --- What the change does to one customer ---------------------------------------------------------


def batch_facts(change: BulkChange, batch: list[Customer]) -> dict:
    """What `outcome` needs to know of a batch beyond the customers themselves, read in one query:
    the profile each is pinned to (pin, unpin) or its active subscription (delete), by customer id."""
    if change.action in ("pin", "unpin"):
        return {
            e.customer.id: e.override.billing_profile_id if e.override is not None else None
            for e in overrides.effective_many(batch)
        }
    if change.action == "delete":
        return current_subscriptions([c.id for c in batch])
    return {}


def outcome(change: BulkChange, customer: Customer, facts: dict) -> tuple[str, str | None]:
    """("change", None), ("unchanged", None) or ("refused", why) for this customer (`facts`: its
    batch's `batch_facts`)."""
    if change.action in ("pin", "unpin"):
        return ("unchanged", None) if facts.get(customer.id) == change.profile_id else ("change", None)
    if change.action == "delete":
        subscription = facts.get(customer.id)
        if subscription is not None:
            return "refused", f"Has an active subscription to {subscription.plan.name}; cancel it first."
        return "change", None
    data = _changed_input(change, customer)
    if data == rules.input_of(customer):
        return "unchanged", None
    if change.action == "tag_add" and len(data.tags) > TAGS_MAX:
        return "refused", f"Already has {len(customer.tags)} tags, the most a customer can have."
    if change.action == "metadata_set" and len(data.metadata) > METADATA_MAX_KEYS:
        return "refused", f"Already has {len(customer.metadata_)} metadata keys, the most a customer can have."
    return "change", None


def _changed_input(change: BulkChange, customer: Customer) -> rules.CustomerInput:
    data = rules.input_of(customer)
    metadata, tags = dict(data.metadata), list(data.tags)
    if change.action == "metadata_set":
        metadata[change.key] = change.value
    elif change.action == "metadata_remove":
        metadata.pop(change.key, None)
    elif change.action == "tag_add" and change.tag not in tags:
        tags = sorted([*tags, change.tag])
    elif change.action == "tag_remove" and change.tag in tags:
        tags.remove(change.tag)
    return replace(data, metadata=metadata, tags=tags)


def make(change: BulkChange, customer: Customer) -> None:
    """Make the change to one customer, in its own transaction, by the rules of a single edit.
    Raises a Problem when the customer refuses it (changed meanwhile, subscribed…)."""
    if change.action == "pin":
        overrides.choose(customer.id, change.profile_id)
    elif change.action == "unpin":
        overrides.choose(customer.id, None)
    elif change.action == "delete":
        lifecycle.delete(customer.id, expected_version=customer.version)
    else:
        rules.replace(customer.id, _changed_input(change, customer), expected_version=customer.version)


@dataclass
class Tally:
    """A preview's or a run's counts, with the first refusals: (customer id, name, why)."""

    change: int = 0
    unchanged: int = 0
    refused: int = 0
    refusals: list = field(default_factory=list)

    @property
    def total(self) -> int:
        return self.change + self.unchanged + self.refused

    def add(self, what: str, customer: Customer, why: str | None = None) -> None:
        setattr(self, what, getattr(self, what) + 1)
        if what == "refused" and len(self.refusals) < REFUSALS_KEPT:
            self.refusals.append([customer.id, customer.name, why])

    def to_json(self) -> dict:
        return {"change": self.change, "unchanged": self.unchanged, "refused": self.refused, "refusals": self.refusals}


def preview(change: BulkChange, selection: Selection, progress=None) -> Tally:
    """What the change would do to each selected customer; nothing is written. `progress(done)`
    is called after each batch."""
    tally = Tally()
    for batch in selection.batches():
        facts = batch_facts(change, batch)
        for customer in batch:
            what, why = outcome(change, customer, facts)
            tally.add(what, customer, why)
        if progress is not None:
            progress(tally.total)
    return tally


def run(change: BulkChange, selection: Selection, progress=None) -> Tally:
    """Make the change to every selected customer it changes; each customer's change is its own
    transaction. `progress(done)` is called after each batch."""
    tally = Tally()
    for batch in selection.batches():
        facts = batch_facts(change, batch)
        for customer in batch:
            what, why = outcome(change, customer, facts)
            if what == "change":
                try:
                    make(change, customer)
                except Problem as problem:
                    what, why = "refused", problem.detail
            tally.add(what, customer, why)
        if progress is not None:
            progress(tally.total)
    return tally


# --- Undo --------------------------------------------------------------------------------------


def undo(batch_id: str, progress=None) -> Tally:
    """Reverse what a finished batch changed, customer by customer, where it can be: a value is
    put back only while it is still what the batch made it (a later edit wins); a deleted customer
    comes back while its key and subject keys are still free. The batch's history is read a page
    at a time, newest first, so undoing 200,000 changes holds 1,000 of them at once."""
    tally = Tally()
    done_ids: set[str] = set()
    for page in _batch_changes(batch_id):
        for customer_id, action, changes in page:
            if customer_id in done_ids:
                continue
            done_ids.add(customer_id)
            customer = db.session.get(Customer, customer_id)
            if customer is None:
                continue
            what, why = _undo_one(customer, action, {c["field"]: c for c in changes})
            tally.add(what, customer, why)
        if progress is not None:
            progress(tally.total)
    return tally


def _batch_changes(batch_id: str) -> Iterator[list[tuple[str, str, list]]]:
    """The batch's customer changes as (customer id, action, changes), newest first, by page."""
    before = None
    while True:
        query = db.select(Change.id, Change.entity_id, Change.action, Change.changes).where(
            Change.job_id == batch_id, Change.entity_type == "customer"
        )
        if before is not None:
            query = query.where(Change.id < before)
        rows = db.session.execute(query.order_by(Change.id.desc()).limit(BATCH)).all()
        db.session.rollback()  # end the read before the changes: each is a transaction of its own
        if not rows:
            return
        yield [(entity_id, action, list(changes)) for _, entity_id, action, changes in rows]
        before = rows[-1].id


def _undo_one(customer: Customer, action: str, changes: dict) -> tuple[str, str | None]:
    try:
        if action == "delete":
            if not customer.is_deleted:
                return "unchanged", None
            rules.restore(customer.id)
            return "change", None
        if customer.is_deleted:
            return "refused", "Deleted since."
        if "billingProfileId" in changes:
            before, after = changes["billingProfileId"]["before"], changes["billingProfileId"]["after"]
            override = overrides.effective(customer).override
            if (override.billing_profile_id if override else None) != after:
                return "refused", "Its billing profile was changed again since."
            overrides.choose(customer.id, before)
            return "change", None
        data = rules.input_of(customer)
        for name, attr in (("metadata", "metadata"), ("tags", "tags")):
            if name in changes:
                if getattr(data, attr) != (changes[name]["after"] or ({} if attr == "metadata" else [])):
                    return "refused", f"Its {name} were changed again since."
                data = replace(data, **{attr: changes[name]["before"] or ({} if attr == "metadata" else [])})
        rules.replace(customer.id, data, expected_version=customer.version)
        return "change", None
    except Problem as problem:
        return "refused", problem.detail
