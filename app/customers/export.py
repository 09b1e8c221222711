"""Customers out: every customer a list's search and filters match, in the list's order, as CSV
(RFC 4180, UTF-8, a header row) or as JSON Lines. The console's list and the API export the same way.

Rows are read a batch at a time by keyset (listing.walk_rows; walk_ids for a text search), so
memory stays flat and the millionth row costs what the first did. Everything a row shows but its
Stripe data is read in one statement per batch.
"""

import csv
import io
import json
from collections.abc import Iterator
from dataclasses import dataclass

from flask import Response, stream_with_context
from sqlalchemy import Text, bindparam, cast, select

from app.apps.models import CustomerAppData
from app.billing.models import BillingProfile
from app.billing.overrides import CustomerOverride, with_billing
from app.common import ADDRESS_FIELDS, METADATA_KEY_MAX, METADATA_MAX_KEYS
from app.customers import listing
from app.customers.listing import CustomerFilters
from app.customers.models import Customer, split_subjects
from app.extensions import db, iso_utc, utcnow
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
# in the session. The columns come in the file's order, so a row is turned into cells by position.
# JSON columns are read as their text (most are empty: "{}" or "[]", seen without parsing them).
# SELECTED is every customer with the export's columns (bench/transfer.py reads it raw, as its floor).
SELECTED = with_current_plan(
    with_billing(
        Customer.id,
        Customer.key,
        Customer.name,
        Customer.primary_email,
        Customer.currency,
        Customer.subjects_text,
        cast(Customer.tags, Text),
        *(getattr(Customer, f"address_{attr}") for attr in ADDRESS_FIELDS),
        BillingProfile.name,
        CustomerOverride.billing_profile_id.is_not(None),
        Plan.name,
        iso_utc(Customer.created_at),
        iso_utc(Customer.updated_at),
        iso_utc(Customer.deleted_at),
        cast(Customer.metadata_, Text),
    )
)
_ROWS = SELECTED.where(Customer.id.in_(bindparam("ids", expanding=True)))
_STRIPE = (
    select(
        CustomerAppData.customer_id,
        CustomerAppData.stripe_customer_id,
        CustomerAppData.stripe_default_payment_method_id,
    )
    .where(CustomerAppData.customer_id.in_(bindparam("ids", expanding=True)), CustomerAppData.type == "stripe")
    .order_by(CustomerAppData.customer_id, CustomerAppData.created_at)
)
_NO_STRIPE = (None, None)
# Positions in a row of SELECTED.
_TAGS, _ADDRESS = 6, 7
_PROFILE = _ADDRESS + len(ADDRESS_FIELDS)
_PINNED, _PLAN, _CREATED, _UPDATED, _DELETED, _METADATA = range(_PROFILE + 1, _PROFILE + 7)


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


def _batches(export: Export) -> Iterator[list[tuple]]:
    """Each batch of matching customers, in the list's order, as (row of SELECTED, (Stripe customer
    id, default payment method))."""
    walked = listing.walk_rows(export.filters, SELECTED, export.order_by, export.descending)
    if walked is None:  # the list is walked by its ids: its rows are then read by id
        walked = (_rows_of(ids) for ids in listing.walk_ids(export.filters, export.order_by, export.descending))
    for rows in walked:
        stripe: dict[str, tuple] = {}
        ids = [row[0] for row in rows]
        for customer_id, stripe_id, payment_method in db.session.connection().execute(_STRIPE, {"ids": ids}):
            stripe.setdefault(customer_id, (stripe_id, payment_method))  # the first Stripe app's
        yield [(row, stripe.get(row[0], _NO_STRIPE)) for row in rows]


def _rows_of(ids: list[str]) -> list[tuple]:
    """The rows of these customers, in this order (one deleted for good since is left out)."""
    found = {row[0]: row for row in db.session.connection().execute(_ROWS, {"ids": ids})}
    return [found[i] for i in ids if i in found]


def _record(export: Export, row: tuple, stripe: tuple) -> dict:
    metadata = _json(row[_METADATA], {})
    record = dict(zip(COLUMNS[:_TAGS], row[:_TAGS], strict=True))
    record["subjectKeys"] = split_subjects(record["subjectKeys"])
    record["tags"] = _json(row[_TAGS], [])
    record |= {f"billingAddress.{api}": row[_ADDRESS + i] for i, api in enumerate(ADDRESS_FIELDS.values())}
    record |= {
        "billingProfile": row[_PROFILE],
        "billingProfilePinned": bool(row[_PINNED]),
        "plan": row[_PLAN],
        "stripeCustomerId": stripe[0],
        "stripeDefaultPaymentMethodId": stripe[1],
        "createdAt": row[_CREATED],
        "updatedAt": row[_UPDATED],
        "deletedAt": row[_DELETED],
    }
    if export.metadata_keys is None:
        record[METADATA_COLUMN] = metadata
    else:
        record |= {f"metadata.{key}": metadata.get(key) for key in export.metadata_keys}
    return record


def _json(text: str | None, empty):
    return json.loads(text) if text and text not in EMPTY_JSON else empty


EMPTY_JSON = frozenset({"{}", "[]", "null"})


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
        value = _metadata_text(value)
    return _safe(value)


def _safe(text: str | None) -> str:
    """Text a spreadsheet shows and never runs (see csv_cell)."""
    return ("'" + text if text[0] in FORMULA_FIRST else text) if text else ""


FORMULA_FIRST = frozenset(FORMULA_STARTS)


def _metadata_text(metadata: dict) -> str:
    return json.dumps(metadata, ensure_ascii=False) if metadata else ""


def _csv_cells(export: Export, row: tuple, stripe: tuple) -> list[str]:
    """A customer's CSV cells, straight from its row: the export's hot path, so no record is built
    in between, and text is neutralised inline (see csv_cell) rather than by a call per cell."""
    tags, metadata = row[_TAGS], row[_METADATA]
    # id … subject keys (one per line, as stored), then the address and the billing profile.
    cells = [("'" + t if t[0] in FORMULA_FIRST else t) if t else "" for t in row[:_TAGS]]
    cells.append(_safe("\n".join(json.loads(tags))) if tags and tags not in EMPTY_JSON else "")
    cells += [("'" + t if t[0] in FORMULA_FIRST else t) if t else "" for t in row[_ADDRESS:_PINNED]]
    cells += ("true" if row[_PINNED] else "false", _safe(row[_PLAN]), _safe(stripe[0]), _safe(stripe[1]))
    cells += (row[_CREATED], row[_UPDATED], row[_DELETED] or "")
    if export.metadata_keys is None:
        cells.append(_safe(_stored_metadata_text(metadata)))
    else:
        values = _json(metadata, {})
        cells += [_safe(values.get(key)) for key in export.metadata_keys]
    return cells


def _stored_metadata_text(stored: str | None) -> str:
    """Metadata's cell from its stored JSON, as it is unless it escapes characters beyond ASCII
    (then written again, so a spreadsheet shows "Zoë", not "Zo\\u00eb")."""
    if not stored or stored in EMPTY_JSON:
        return ""
    return _metadata_text(json.loads(stored)) if "\\u" in stored else stored


def pieces(export: Export, file_format: str, with_bom: bool = False) -> Iterator[tuple[str, int]]:
    """The file's text a batch of customers at a time, each piece with how many customers it holds
    (a CSV starts with its header line, a piece of none). The CSV may start with a byte-order mark:
    without it, Excel reads a UTF-8 CSV in the machine's legacy code page."""
    if file_format == "jsonl":
        for batch in _batches(export):
            yield "".join(json.dumps(_record(export, *each), ensure_ascii=False) + "\n" for each in batch), len(batch)
        return
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(export.columns)
    yield (BOM if with_bom else "") + buffer.getvalue(), 0
    for batch in _batches(export):
        buffer.seek(0)
        buffer.truncate()
        writer.writerows([_csv_cells(export, row, stripe) for row, stripe in batch])
        yield buffer.getvalue(), len(batch)


def lines(export: Export, file_format: str, with_bom: bool = False) -> Iterator[str]:
    """The file's text, a batch of lines at a time."""
    return (text for text, _ in pieces(export, file_format, with_bom))


BOM = "\ufeff"


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
