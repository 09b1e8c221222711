"""Customers out: every customer a list's search and filters match, in the list's order, as CSV
(RFC 4180, UTF-8, a header row) or as JSON Lines. The console's list and the API export the same way.

Rows are read a batch at a time by keyset (listing.walk_ids), so memory stays flat and the millionth
row costs what the first did. Everything a row shows is read in one query per batch.
"""

import csv
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from flask import Response, stream_with_context
from sqlalchemy import bindparam, select

from app.apps.models import CustomerAppData
from app.billing.models import BillingProfile
from app.billing.overrides import CustomerOverride, with_billing
from app.common import ADDRESS_FIELDS, METADATA_KEY_MAX, METADATA_MAX_KEYS
from app.customers import listing
from app.customers.listing import CustomerFilters
from app.customers.models import Customer, split_subjects
from app.extensions import db, utcnow
from app.plans.models import Plan
from app.plans.rules import with_current_plan
from app.problems import FieldError, Invalid
from app.text_rules import check_identifier

FORMATS = {"csv": "text/csv; charset=utf-8", "jsonl": "application/x-ndjson; charset=utf-8"}

# The columns, in order, under the names the import will read back.
COLUMNS = (
    "id",
    "key",
    "name",
    "primaryEmail",
    "currency",
    "subjectKeys",
    "tags",
    *(f"billingAddress.{api}" for api in ADDRESS_FIELDS.values()),
    "billingProfile",
    "billingProfilePinned",
    "plan",
    "stripeCustomerId",
    "stripeDefaultPaymentMethodId",
    "createdAt",
    "updatedAt",
    "deletedAt",
)
# Without chosen keys, all of a customer's metadata is one column of JSON.
METADATA_COLUMN = "metadata"
# A cell a spreadsheet would run as a formula starts with one of these (OWASP's list, with tab and CR).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")

# Plain rows, not Customer objects: a commit (the job's progress) would expire objects not yet
# written, and each would then be read again on its own; and a million customers must not pile up
# in the session.
_CUSTOMER = (
    Customer.id,
    Customer.key,
    Customer.name,
    Customer.primary_email,
    Customer.currency,
    Customer.subjects_text,
    Customer.tags,
    *(getattr(Customer, f"address_{attr}") for attr in ADDRESS_FIELDS),
    Customer.metadata_.label("metadata_"),
    Customer.created_at,
    Customer.updated_at,
    Customer.deleted_at,
)
_ROWS = with_current_plan(
    with_billing(
        *_CUSTOMER,
        Plan.name.label("plan"),
        BillingProfile.name.label("profile"),
        CustomerOverride.billing_profile_id.is_not(None).label("pinned"),
    )
).where(Customer.id.in_(bindparam("ids", expanding=True)))
_STRIPE = (
    select(
        CustomerAppData.customer_id,
        CustomerAppData.stripe_customer_id,
        CustomerAppData.stripe_default_payment_method_id,
    )
    .where(CustomerAppData.customer_id.in_(bindparam("ids", expanding=True)), CustomerAppData.type == "stripe")
    .order_by(CustomerAppData.customer_id, CustomerAppData.created_at)
)


@dataclass
class Export:
    """What to export: the list's filters and order, and which metadata keys get columns of their
    own (None: all metadata as one JSON column)."""

    filters: CustomerFilters
    order_by: str = "name"
    descending: bool = False
    metadata_keys: tuple[str, ...] | None = None

    @property
    def columns(self) -> tuple[str, ...]:
        if self.metadata_keys is None:
            return (*COLUMNS, METADATA_COLUMN)
        return (*COLUMNS, *(f"metadata.{key}" for key in self.metadata_keys))


def records(export: Export) -> Iterator[dict]:
    """Each matching customer as {column: value}, in the list's order. Values are str, bool, list,
    dict or None; times are ISO 8601 in UTC."""
    for ids in listing.walk_ids(export.filters, export.order_by, export.descending):
        stripe: dict[str, tuple] = {}
        for customer_id, stripe_id, payment_method in db.session.execute(_STRIPE, {"ids": ids}):
            stripe.setdefault(customer_id, (stripe_id, payment_method))  # the first Stripe app's
        found = {row.id: row for row in db.session.execute(_ROWS, {"ids": ids})}
        for customer_id in ids:
            if customer_id in found:  # else deleted for good meanwhile
                yield _record(export, found[customer_id], stripe.get(customer_id, (None, None)))


def _record(export: Export, customer, stripe) -> dict:
    metadata = customer.metadata_ or {}
    record = {
        "id": customer.id,
        "key": customer.key,
        "name": customer.name,
        "primaryEmail": customer.primary_email,
        "currency": customer.currency,
        "subjectKeys": split_subjects(customer.subjects_text),
        "tags": list(customer.tags or []),
        **{f"billingAddress.{api}": getattr(customer, f"address_{attr}") for attr, api in ADDRESS_FIELDS.items()},
        "billingProfile": customer.profile,
        "billingProfilePinned": bool(customer.pinned),
        "plan": customer.plan,
        "stripeCustomerId": stripe[0],
        "stripeDefaultPaymentMethodId": stripe[1],
        "createdAt": _iso(customer.created_at),
        "updatedAt": _iso(customer.updated_at),
        "deletedAt": _iso(customer.deleted_at),
    }
    if export.metadata_keys is None:
        record[METADATA_COLUMN] = metadata
    else:
        record |= {f"metadata.{key}": metadata.get(key) for key in export.metadata_keys}
    return record


def _iso(moment) -> str | None:
    return moment.isoformat().replace("+00:00", "Z") if moment is not None else None


class _Line:
    """A file-like target for csv.writer that hands back what was written."""

    def __init__(self):
        self.text = ""

    def write(self, text: str) -> None:
        self.text += text


def csv_cell(value) -> str:
    """A value as a spreadsheet should show it, and never run it: empty for None, "true"/"false",
    subject keys and tags one per line, metadata as JSON; a leading formula character is escaped with an
    apostrophe (the usual neutralisation: spreadsheets hide it, and keep the text)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        value = "\n".join(value)
    elif isinstance(value, dict):
        value = json.dumps(value, ensure_ascii=False, sort_keys=True) if value else ""
    return "'" + value if value.startswith(FORMULA_STARTS) else value


def csv_lines(export: Export, rows: Iterable[dict] | None = None) -> Iterator[str]:
    """The export as CSV text, a line at a time (a header first)."""
    line = _Line()
    writer = csv.writer(line, lineterminator="\r\n")
    columns = export.columns
    writer.writerow(columns)
    yield line.text
    for record in rows if rows is not None else records(export):
        line.text = ""
        writer.writerow([csv_cell(record[column]) for column in columns])
        yield line.text


def jsonl_lines(export: Export, rows: Iterable[dict] | None = None) -> Iterator[str]:
    """The export as JSON Lines: one object per customer, keys as the CSV header names them."""
    for record in rows if rows is not None else records(export):
        yield json.dumps(record, ensure_ascii=False) + "\n"


def lines(export: Export, file_format: str, with_bom: bool = False) -> Iterator[str]:
    """The file's text, a line at a time. The CSV may start with a byte-order mark: without it,
    Excel reads a UTF-8 CSV in the machine's legacy code page."""
    if file_format == "jsonl":
        return jsonl_lines(export)
    body = csv_lines(export)
    if with_bom:
        body = _after(BOM, body)
    return body


BOM = "\ufeff"


def _after(first: str, rest: Iterator[str]) -> Iterator[str]:
    first_line = next(rest)
    yield first + first_line
    yield from rest


def count(export: Export) -> int:
    """How many customers the export will hold (counted, not estimated: for its progress)."""
    return listing.count_matching(export.filters)


def file_name(file_format: str) -> str:
    return f"customers-{utcnow():%Y-%m-%d-%H%M%S}.{file_format}"


def to_params(export: Export, file_format: str) -> dict:
    """The export as JSON, for a background job."""
    return {
        "filters": export.filters.to_json(),
        "orderBy": export.order_by,
        "descending": export.descending,
        "metadataKeys": list(export.metadata_keys) if export.metadata_keys is not None else None,
        "format": file_format,
    }


def from_params(params: dict) -> tuple[Export, str]:
    keys = params["metadataKeys"]
    wanted = Export(
        CustomerFilters.of_json(params["filters"]),
        params["orderBy"],
        params["descending"],
        tuple(keys) if keys else None,
    )
    return wanted, params["format"]


def metadata_keys(typed: list[str], field: str = "metadataKey") -> tuple[str, ...] | None:
    """The metadata keys an operator picked for columns of their own, in order, each once (none
    picked: None, all metadata as one column). Raises Invalid for a key no customer could have."""
    keys = tuple(dict.fromkeys(typed))
    errors: list[FieldError] = []
    if len(keys) > METADATA_MAX_KEYS:
        errors.append(
            FieldError(field, "too_many", f"Pick at most {METADATA_MAX_KEYS} metadata keys ({len(keys)} given).")
        )
    else:
        for key in keys:
            check_identifier(errors, field, key, METADATA_KEY_MAX, label="Metadata key", required=True)
    if errors:
        raise Invalid(errors)
    return keys or None


def download(export: Export, file_format: str) -> Response:
    """The export as a file download, streamed: the first rows leave before the last are read."""
    return Response(
        stream_with_context(lines(export, file_format, with_bom=True)),
        mimetype=FORMATS[file_format].split(";")[0],
        headers={
            "Content-Disposition": f'attachment; filename="{file_name(file_format)}"',
            "Cache-Control": "no-store",
        },
    )
