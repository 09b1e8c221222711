"""What "needs attention" means for a customer: the overview counts each (app/overview) and the
customers list filters by it (`?attention=<code>`), from these conditions, written once.
"""

from collections.abc import Callable

from flask import g
from sqlalchemy import ColumnElement, and_, func, literal_column, select
from sqlalchemy.orm import aliased

from app.apps.models import CustomerAppData
from app.common import ADDRESS_FIELDS
from app.customers.models import Customer
from app.extensions import db


def _sqlite() -> bool:
    return db.session.get_bind().dialect.name == "sqlite"


# Fewer customers than this in a filter's set: the filter reads them from their own index (IN);
# more: each customer the list walks is looked up in it (EXISTS). Gathering n ids costs about n;
# walking until a count of up to listing.COUNT_LIMIT (10,000) is found costs about
# 10,000 × customers / n: at a million customers they meet near 100,000. So a rare tag is found
# without walking a million customers, a common one without gathering a third of a million ids.
FEW = 100_000
# A page of the list (up to 100 rows) meets the gathering much sooner: walking costs about
# 100 × customers / n, so at a million customers n = 10,000 costs either way about the same.
FEW_FOR_A_PAGE = 10_000


def among(ids, for_a_page: bool = False) -> ColumnElement:
    """Customers whose id is in `ids` (a select of customer ids), written as suits its size and
    whether it finds a page of the list (else: counts, or every match)."""
    if _held(ids) < (FEW_FOR_A_PAGE if for_a_page else FEW):
        return Customer.id.in_(ids)
    return ids.where(ids.selected_columns[0] == Customer.id).exists()


def _held(ids) -> int:
    """How many ids the select gives, up to FEW: counted once per request (or job) for the same
    select with the same values, though its page and its count each ask."""
    compiled = ids.compile()
    key = (str(compiled), tuple(sorted(compiled.params.items())))
    counted = g.setdefault("ids_held", {})
    if key not in counted:
        counted[key] = db.session.scalar(select(func.count()).select_from(ids.limit(FEW).subquery())) or 0
    return counted[key]


# Each condition is a boolean expression over `Customer`, for `select(Customer.id).where(cond)`,
# and holds only live customers (a deleted one needs nothing). Migration 0018 keeps the customers
# that no_currency, no_address and no_subjects hold in partial indexes, in name order, whose WHERE
# is the condition word for word (with no bound parameter, or SQLite could not tell that it
# matches): counting them, or listing them a page at a time, reads only them.

LIVE = Customer.deleted_at.is_(None)


def no_currency() -> ColumnElement:
    return and_(LIVE, Customer.currency.is_(None))


def no_address() -> ColumnElement:
    # The rules store an empty address, and each empty part of one, as NULL (customers.rules._normalised).
    return and_(LIVE, *(getattr(Customer, f"address_{part}").is_(None) for part in ADDRESS_FIELDS))


def stripe_no_payment_method() -> ColumnElement:
    """Linked to a Stripe customer in some Stripe app, with no default payment method there."""
    linked_without = select(CustomerAppData.customer_id).where(
        CustomerAppData.type == "stripe",
        CustomerAppData.stripe_customer_id.is_not(None),
        CustomerAppData.stripe_default_payment_method_id.is_(None),
    )
    return and_(LIVE, among(linked_without))


def no_subjects() -> ColumnElement:
    # subjects_text is what the search and the subject filter read (customers.models): "" is none.
    return and_(LIVE, Customer.subjects_text == literal_column("''"))


def key_case_clash() -> ColumnElement:
    """Another live customer's key is this one's but for upper and lower case ("Acme" and "acme").

    The keys of live customers are unique, so these are the members of the groups of two or more
    live keys alike but for case. Written so that the database finds those few groups in one walk
    through migration 0015's index of live keys by their case-folded form, then looks their
    members up in it, rather than looking every customer up in it. SQLite's NOCASE folds ASCII
    letters only (so "É" and "é" are not found there); PostgreSQL's lower() folds all of them."""
    other = aliased(Customer)
    folded_other = other.key.collate("NOCASE") if _sqlite() else func.lower(other.key)
    clashing = (
        select(folded_other)
        .where(other.deleted_at.is_(None), other.key.is_not(None))
        .group_by(folded_other)
        .having(func.count() > 1)
    )
    folded = Customer.key.collate("NOCASE") if _sqlite() else func.lower(Customer.key)
    return and_(LIVE, folded.in_(clashing))


ATTENTION: dict[str, tuple[str, Callable[[], ColumnElement]]] = {
    "no_currency": ("No currency", no_currency),
    "no_address": ("No billing address", no_address),
    "stripe_no_payment_method": ("Linked to Stripe without a payment method", stripe_no_payment_method),
    "no_subjects": ("No subject keys", no_subjects),
    "key_case_clash": ("Key differs from another only by case", key_case_clash),
}
