"""Customers in: a CSV or JSON Lines file, every row checked with the customer rules before anything
is written, then written by key (an upsert: the same file twice changes nothing the second time).

Reading is tolerant: a byte-order mark, CRLF, quoted line breaks, a `,` `;` or tab separator (told
from the header line), and a Windows-1252 ("Latin-1") file, recognised when it is not UTF-8, are
all read; anything else is refused (`Refused`) with a message that says what the file is and what
to do. Columns are matched to fields by their header: the export's own names, and common aliases
(`external_id`, `email`…); the operator maps the rest.

A row is matched to a customer by its key, or, without one, by its first subject key. Its cells
replace the fields their columns map to; fields without a column keep their values (an empty cell
clears its field). A row is then one of: to create, to update, unchanged, or in error, with each
error named by row number, column and message: the customer rules' own (`rules.checked`), a key or
subject key another customer holds (naming it), or one an earlier row of the file claims.

Rows are read from the file and checked a batch at a time (one query for the batch's customers, one
for the holders of its keys), and the values seen so far are kept in a temporary SQLite file, not
in memory: memory stays flat whatever the file's size.
"""

import codecs
import csv
import dataclasses
import io
import json
import sqlite3
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from app.common import ADDRESS_FIELDS, METADATA_KEY_MAX, Address
from app.customers import lifecycle, rules
from app.customers.export import COLUMNS, FORMULA_STARTS, METADATA_COLUMN, csv_cell
from app.customers.models import Customer
from app.customers.rules import CustomerInput
from app.extensions import db
from app.problems import FieldError
from app.text_rules import check_identifier, nfc

BATCH_ROWS = 1_000
MAX_COLUMNS = 200
# The longest cell read (characters): 1,000 subject keys of 256 characters fit; csv's limit is
# process-wide, and nothing else in the console reads CSV.
MAX_CELL = 300_000
csv.field_size_limit(MAX_CELL)
HEAD_BYTES = 64 * 1024  # what the file's encoding, format and header are told from
SAMPLE_ROWS = 3  # shown beside each column when mapping
ERRORS_KEPT = 500  # listed on the page; the bad rows file has every one

# What a column can be imported as: the field's name (the export's header), and its label.
PLAIN = {"key": "key", "name": "name", "description": "description", "primaryEmail": "primary_email"}
PLAIN["currency"] = "currency"
ADDRESS = {f"billingAddress.{api}": attr for attr, api in ADDRESS_FIELDS.items()}
SUBJECT_KEYS = "subjectKeys"
TAGS = "tags"
METADATA_PREFIX = f"{METADATA_COLUMN}."
LABELS = {
    "key": "Key",
    "name": "Name",
    "description": "Description",
    "primaryEmail": "Primary email",
    "currency": "Currency",
    SUBJECT_KEYS: "Subject keys (one per line)",
    TAGS: "Tags (separated by commas or lines)",
    **{target: f"Billing address: {attr.replace('_', ' ')}" for target, attr in ADDRESS.items()},
    METADATA_COLUMN: "Metadata (a JSON object)",
}
# The export's columns that an import does not write: ids, times, and what other pages manage.
READ_ONLY = tuple(column for column in COLUMNS if column not in LABELS)


def _folded(header: str) -> str:
    """A header as matched: case, spaces and punctuation aside ("E-mail" is "email")."""
    return "".join(ch for ch in header.casefold() if ch.isalnum())


ALIASES = {
    **{_folded(target): target for target in LABELS},
    **{
        _folded(alias): target
        for target, aliases in {
            "key": ("external_id", "externalId", "customer_key", "customer_id", "external_customer_id"),
            "name": ("customer_name", "company", "company_name", "legal_name", "full_name"),
            "primaryEmail": ("email", "email_address", "e-mail", "billing_email", "mail"),
            "currency": ("currency_code",),
            SUBJECT_KEYS: ("subject_keys", "subject_key", "subject", "subjects", "usageAttribution.subjectKeys"),
            "billingAddress.country": ("country", "country_code", "address_country"),
            "billingAddress.postalCode": ("postal_code", "postcode", "zip", "zip_code", "zipcode"),
            "billingAddress.state": ("state", "province", "county"),
            "billingAddress.city": ("city", "town", "address_city"),
            "billingAddress.line1": ("line1", "address_line1", "address1", "street", "address_line_1"),
            "billingAddress.line2": ("line2", "address_line2", "address2", "address_line_2"),
            "billingAddress.phoneNumber": ("phone", "phone_number", "telephone"),
            METADATA_COLUMN: ("meta",),
            TAGS: ("labels", "tag"),
        }.items()
        for alias in aliases
    },
}


class Refused(Exception):
    """The file cannot be imported at all: not a CSV or JSON Lines file, empty, too wide, a cell
    too long. The message says why, in words for the operator."""


# --- The file's layout ------------------------------------------------------------------------


@dataclass
class Layout:
    """How the file reads: told from its first bytes (`inspect`)."""

    format: str  # "csv" or "jsonl"
    encoding: str  # "utf-8-sig" (with or without the mark) or "cp1252"
    delimiter: str  # CSV: ",", ";" or "\t"
    headers: list[str]  # CSV: the header row; JSON Lines: the fields of the first lines
    samples: list[list[str]] = field(default_factory=list)  # the first rows' cells, by column

    @property
    def encoding_name(self) -> str:
        return "UTF-8" if self.encoding == "utf-8-sig" else "Windows-1252 (Latin-1)"

    @property
    def delimiter_name(self) -> str:
        return {",": "commas", ";": "semicolons", "\t": "tabs"}[self.delimiter]


def inspect(head: bytes) -> Layout:
    """The layout of a file that starts with `head` (its first HEAD_BYTES). Raises Refused."""
    if not head.strip():
        raise Refused("The file is empty.")
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        raise Refused('The file is UTF-16 (Excel\'s "Unicode Text"). Save it as "CSV UTF-8" and upload it again.')
    if b"\x00" in head:
        workbook = head.startswith((b"PK\x03\x04", b"\xd0\xcf\x11\xe0"))
        what = "an Excel workbook or another zipped file" if workbook else "binary data"
        raise Refused(f"This is not a CSV or JSON Lines file: it holds {what}. Save the sheet as CSV first.")
    encoding, text = _decoded_head(head)
    first = text.lstrip("\ufeff \t\r\n")[:1]
    if first == "[":
        raise Refused("This is a JSON array. Save one customer per line (JSON Lines), or a CSV.")
    if first == "{":
        return _jsonl_layout(text, encoding)
    return _csv_layout(text, encoding, len(head) < HEAD_BYTES)


def _decoded_head(head: bytes) -> tuple[str, str]:
    try:  # a character cut at the end of the head is not an error: it is whole in the file
        return "utf-8-sig", codecs.getincrementaldecoder("utf-8-sig")().decode(head, final=False)
    except UnicodeDecodeError:
        pass
    try:
        return "cp1252", head.decode("cp1252")
    except UnicodeDecodeError:
        raise Refused(
            "The file is neither UTF-8 nor Windows-1252 (Latin-1) text. Save it as UTF-8 "
            '("CSV UTF-8" in Excel) and upload it again.'
        ) from None


def _csv_layout(text: str, encoding: str, whole: bool) -> Layout:
    if not whole:  # the last line of the head may be cut
        text = text[: text.rfind("\n") + 1] or text
    delimiter = _delimiter(text.lstrip("\ufeff").split("\n", 1)[0])
    reader = csv.reader(io.StringIO(text.lstrip("\ufeff"), newline=""), delimiter=delimiter)
    try:
        headers = [cell.strip() for cell in next(reader)]
        samples = [row for _, row in zip(range(SAMPLE_ROWS), reader, strict=False)]
    except csv.Error as error:
        raise Refused(f"The file's first lines cannot be read as CSV ({error}).") from None
    if len(headers) > MAX_COLUMNS:
        raise Refused(f"The header row has {len(headers):,} columns; an import reads at most {MAX_COLUMNS}.")
    return Layout("csv", encoding, delimiter, headers, samples)


def _delimiter(line: str) -> str:
    """The separator the header line uses most, outside quotes (a comma when none shows)."""
    counts = dict.fromkeys(",;\t", 0)
    quoted = False
    for ch in line:
        if ch == '"':
            quoted = not quoted
        elif not quoted and ch in counts:
            counts[ch] += 1
    best = max(counts, key=lambda ch: counts[ch])
    return best if counts[best] else ","


def _jsonl_layout(text: str, encoding: str) -> Layout:
    headers: dict[str, None] = {}
    objects = []
    for line in text.lstrip("\ufeff").splitlines()[:100]:
        try:
            value = json.loads(line) if line.strip() else None
        except ValueError:
            continue  # the head's last line may be cut; a bad line is its row's error
        if isinstance(value, dict):
            flat = _flattened(value)
            headers.update(dict.fromkeys(flat))
            objects.append(flat)
    if not headers:
        raise Refused("The file's first line is not a JSON object with fields.")
    names = list(headers)[: MAX_COLUMNS + 1]
    if len(names) > MAX_COLUMNS:
        raise Refused(f"The lines have more than {MAX_COLUMNS} fields; an import reads at most {MAX_COLUMNS}.")
    samples = [[_sample(o.get(name)) for name in names] for o in objects[:SAMPLE_ROWS]]
    return Layout("jsonl", encoding, ",", names, samples)


def _sample(value) -> str:
    if value is None or isinstance(value, str):
        return value or ""
    return json.dumps(value, ensure_ascii=False)


def _flattened(value: dict) -> dict:
    """A customer as the API writes it (billingAddress and usageAttribution nested) or as the
    export writes it (flat): flat, under the export's names."""
    flat = {}
    for name, item in value.items():
        if name == "billingAddress" and isinstance(item, dict):
            flat |= {f"billingAddress.{part}": v for part, v in item.items()}
        elif name == "usageAttribution" and isinstance(item, dict) and SUBJECT_KEYS in item:
            flat[SUBJECT_KEYS] = item[SUBJECT_KEYS]
        else:
            flat[name] = item
    return flat


# --- Mapping columns to fields ------------------------------------------------------------------


def guess_mapping(headers: list[str]) -> list[str | None]:
    """Each column's field by its header (None: not imported); a field goes to its first column.
    A `metadata.<key>` header is that metadata key."""
    taken: set[str] = set()
    mapping: list[str | None] = []
    for header in headers:
        target = ALIASES.get(_folded(header))
        if target is None and header.startswith(METADATA_PREFIX) and len(header) > len(METADATA_PREFIX):
            target = header
        if target in taken:
            target = None
        taken.add(target)
        mapping.append(target)
    return mapping


def mapping_problems(headers: list[str], mapping: list[str | None]) -> list[str]:
    """Why the columns cannot be imported as mapped (nothing: they can)."""
    problems = []
    if len(mapping) != len(headers):
        return [f"The file has {len(headers)} columns; {len(mapping)} were mapped."]
    by_target: dict[str, list[str]] = {}
    for header, target in zip(headers, mapping, strict=True):
        if target is not None:
            by_target.setdefault(target, []).append(header or "(no name)")
    for target, columns in by_target.items():
        metadata_key = target[len(METADATA_PREFIX) :] if target.startswith(METADATA_PREFIX) else None
        if target not in LABELS and not (metadata_key and is_metadata_key(metadata_key)):
            problems.append(f'"{target[:60]}" is not a field a column can be imported as.')
        elif len(columns) > 1:
            listed = ", ".join(f'"{c}"' for c in columns)
            problems.append(f"Columns {listed} are all {label(target)}: import one of them as it, ignore the others.")
    if "key" not in by_target and SUBJECT_KEYS not in by_target:
        problems.append(
            "No column is imported as Key or Subject keys, so no row can be matched to a customer or "
            "create one. Choose the column that holds your own id for each customer as Key."
        )
    if METADATA_COLUMN in by_target and any(t.startswith(METADATA_PREFIX) for t in by_target):
        problems.append("Import metadata either as one JSON column or as a column per key, not both.")
    return problems


def is_metadata_key(text: str) -> bool:
    """Whether a header could be a metadata key (offered as one when mapping)."""
    errors: list[FieldError] = []
    check_identifier(errors, "header", text, METADATA_KEY_MAX, label="Metadata key")
    return not errors


def label(target: str) -> str:
    if target.startswith(METADATA_PREFIX):
        return f'Metadata key "{target[len(METADATA_PREFIX) :]}"'
    return LABELS.get(target, target)


# --- Reading rows -------------------------------------------------------------------------------


class _ChunkStream(io.RawIOBase):
    """A file made of chunks (bytes), read in order, one at a time."""

    def __init__(self, chunks: Iterable[bytes]):
        self._chunks = iter(chunks)
        self._pending = b""

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        while not self._pending:
            self._pending = next(self._chunks, b"")
            if not self._pending:
                return 0
        size = min(len(buffer), len(self._pending))
        buffer[:size] = self._pending[:size]
        self._pending = self._pending[size:]
        return size


@dataclass
class Row:
    number: int  # as a spreadsheet counts them: the header is row 1 (JSON Lines: the line)
    cells: list[str] | dict  # as read: a CSV row's cells, a JSON line's fields (flat)
    values: dict = field(default_factory=dict)  # by field (None: clear it)
    errors: list[FieldError] = field(default_factory=list)  # the row's own, before any rule


def read(chunks: Iterable[bytes], layout: Layout, mapping: list[str | None]) -> Iterator[Row]:
    """The file's rows, with their values by field. Raises Refused for a file that stops being
    readable part way (an encoding error, a cell over MAX_CELL)."""
    text = io.TextIOWrapper(io.BufferedReader(_ChunkStream(chunks)), encoding=layout.encoding, newline="")
    number = 1
    try:
        if layout.format == "jsonl":
            for number, line in enumerate(text, start=1):
                if line.strip():
                    yield _json_row(number, line, mapping, layout.headers)
            return
        reader = csv.reader(text, delimiter=layout.delimiter)
        next(reader, None)  # the header
        for number, cells in enumerate(reader, start=2):
            if any(cell.strip() for cell in cells):
                yield _csv_row(number, cells, mapping)
    except UnicodeDecodeError:
        raise Refused(
            f"Around row {number + 1:,}, the file stops being {layout.encoding_name} text (the rows before it "
            'were). Save it as UTF-8 ("CSV UTF-8" in Excel) and upload it again.'
        ) from None
    except csv.Error as error:
        if "field larger than field limit" in str(error):
            raise Refused(
                f"Row {number + 1:,} has a cell longer than {MAX_CELL:,} characters; no customer field is "
                "that long. Is this the right file?"
            ) from None
        raise Refused(f"Row {number + 1:,} cannot be read as CSV ({error}).") from None


def _csv_row(number: int, cells: list[str], mapping: list[str | None]) -> Row:
    row = Row(number, cells)
    if len(cells) > len(mapping) and any(cell.strip() for cell in cells[len(mapping) :]):
        row.errors.append(
            FieldError("", "too_many_cells", f"The row has {len(cells):,} cells; the header has {len(mapping):,}.")
        )
        return row
    for target, cell in zip(mapping, cells, strict=False):  # a short row: its missing cells are empty
        if target is not None:
            row.values[target] = _unneutralised(cell)
    for target in mapping[len(cells) :]:
        if target is not None:
            row.values[target] = ""
    return row


def _unneutralised(cell: str) -> str:
    """The value of a cell the export neutralised (a leading apostrophe before a formula character,
    or before an apostrophe): what the customer holds."""
    if cell.startswith("'") and cell[1:].startswith((*FORMULA_STARTS, "'")):
        return cell[1:]
    return cell


def _json_row(number: int, line: str, mapping: list[str | None], headers: list[str]) -> Row:
    row = Row(number, {})
    try:
        value = json.loads(line)
    except ValueError as error:
        row.errors.append(FieldError("", "invalid_json", f"The line is not valid JSON ({error.msg})."))
        return row
    if not isinstance(value, dict):
        row.errors.append(FieldError("", "invalid_json", "The line is not a JSON object."))
        return row
    # A number is read as its text (a key of 1042); true, false, lists and objects are not text.
    row.cells = {
        name: str(v) if isinstance(v, (int, float)) and not isinstance(v, bool) else v
        for name, v in _flattened(value).items()
    }
    for header, target in zip(headers, mapping, strict=True):
        if target is not None and header in row.cells:  # a field left out keeps its value
            row.values[target] = row.cells[header]
    return row


# --- Checking rows ------------------------------------------------------------------------------


@dataclass
class Checked:
    """A row and what importing it means."""

    row: Row
    outcome: str  # "create", "update", "unchanged" or "error"
    data: CustomerInput | None = None
    customer: Customer | None = None  # the customer it updates
    errors: list[FieldError] = field(default_factory=list)


class _Seen:
    """The keys and subject keys earlier rows claim, by row number: in a temporary SQLite file,
    so that a million rows' values do not sit in memory."""

    def __init__(self):
        self._db = sqlite3.connect("")  # "": a temporary file, deleted on close
        self._db.execute("CREATE TABLE seen (value TEXT PRIMARY KEY, row INTEGER)")

    def claim(self, values: list[tuple[str, int]]) -> dict[str, int]:
        """Claim each (value, row) not yet claimed; answer the claiming row of each value."""
        self._db.executemany("INSERT OR IGNORE INTO seen VALUES (?, ?)", values)
        wanted = list({value for value, _ in values})
        found: dict[str, int] = {}
        for start in range(0, len(wanted), 500):  # within SQLite's limit on parameters
            part = wanted[start : start + 500]
            marks = ",".join("?" * len(part))
            found |= dict(self._db.execute(f"SELECT value, row FROM seen WHERE value IN ({marks})", part))
        return found

    def close(self) -> None:
        self._db.close()


def check(rows: Iterable[Row]) -> Iterator[list[Checked]]:
    """Each batch of rows, checked against the rules, the database and the rows before it."""
    batch_rows, seen = BATCH_ROWS, _Seen()
    try:
        batch: list[Row] = []
        for row in rows:
            batch.append(row)
            if len(batch) == batch_rows:
                yield _check_batch(batch, seen)
                batch = []
        if batch:
            yield _check_batch(batch, seen)
    finally:
        seen.close()


_BY_KEYS = select(Customer).options(selectinload(Customer.identifiers)).where(Customer.deleted_at.is_(None))


def _check_batch(batch: list[Row], seen: _Seen) -> list[Checked]:
    keys = {nfc(k) for row in batch if isinstance(k := row.values.get("key"), str) and k.strip()}
    by_key = {c.key: c for c in db.session.scalars(_BY_KEYS.where(Customer.key.in_(keys)))} if keys else {}
    firsts = {_first_subject(row) for row in batch} - {None}
    held_first = rules.holders(firsts)
    found = [_matched(row, by_key, held_first) for row in batch]
    proposals = [_proposed(row, customer) for row, customer in zip(batch, found, strict=True)]
    held = rules.holders({v for data, _ in proposals if data for v in (data.key, *data.subject_keys)})
    claims = seen.claim(
        [(value, row.number) for row, (data, _) in zip(batch, proposals, strict=True) if data for value in _ids(data)]
    )
    return [
        _outcome(row, customer, data, errors, held, claims)
        for row, customer, (data, errors) in zip(batch, found, proposals, strict=True)
    ]


def _first_subject(row: Row) -> str | None:
    subjects = row.values.get(SUBJECT_KEYS)
    listed = _subject_list(subjects) if isinstance(subjects, (str, list)) else []
    return nfc(listed[0]) if listed and isinstance(listed[0], str) else None


def _matched(row: Row, by_key: dict[str, Customer], held_first: rules.Holders) -> Customer | None:
    """The customer the row updates: by its key; without one, by its first subject key."""
    key = row.values.get("key")
    if isinstance(key, str) and key.strip():
        return by_key.get(nfc(key))
    first = _first_subject(row)
    holder = held_first.get(first) if first else None
    return holder[1] if holder is not None and holder[0].is_subject else None


def _ids(data: CustomerInput) -> list[str]:
    return list(dict.fromkeys(v for v in (data.key, *data.subject_keys) if v))


def _subject_list(value) -> list:
    """Subject keys as a cell holds them (one per line) or a JSON line (a list)."""
    if isinstance(value, list):
        return value
    return [line.strip() for line in value.replace("\r\n", "\n").split("\n") if line.strip()]


def _proposed(row: Row, customer: Customer | None) -> tuple[CustomerInput | None, list[FieldError]]:
    """The customer as the row would leave it (normalised), and what the row breaks."""
    if row.errors:
        return None, list(row.errors)
    base = rules.input_of(customer) if customer else CustomerInput(name="")
    errors: list[FieldError] = []
    plain = {name: getattr(base, name) for name in rules.PLAIN_FIELDS}
    address = dict(vars(base.billing_address or Address()))  # a flat dataclass: no deep copy needed
    subject_keys, metadata, tags = list(base.subject_keys), dict(base.metadata), list(base.tags)
    for target, value in row.values.items():
        if target == SUBJECT_KEYS:
            listed = _subject_list(value) if isinstance(value, (str, list)) else None if value is not None else []
            if listed is None or not all(isinstance(s, str) for s in listed):
                errors.append(FieldError(target, "invalid", "Subject keys must be text, one per line, or a list."))
            else:
                subject_keys = listed
        elif target == TAGS:
            listed = _tag_list(value)
            if listed is None:
                errors.append(FieldError(target, "invalid", "Tags must be text, separated by commas, or a list."))
            else:
                tags = listed
        elif target == METADATA_COLUMN:
            metadata = _metadata(value, errors)
        elif target.startswith(METADATA_PREFIX):
            text = _text(target, value, errors)
            if text:
                metadata[target[len(METADATA_PREFIX) :]] = text
            else:
                metadata.pop(target[len(METADATA_PREFIX) :], None)
        elif target in ADDRESS:
            address[ADDRESS[target]] = _text(target, value, errors) or None
        else:
            text = _text(target, value, errors)
            plain[PLAIN[target]] = text if target == "name" else text or None
    if errors:
        return None, errors
    proposal = CustomerInput(
        **{**plain, "name": plain["name"] or ""},
        billing_address=Address(**address),
        subject_keys=subject_keys,
        metadata=metadata,
        tags=tags,
    )
    return rules.checked(proposal)


def _tag_list(value) -> list[str] | None:
    """Tags as a cell holds them (separated by commas or lines: a tag has neither) or a JSON list."""
    if value is None:
        return []
    if isinstance(value, list):
        return value if all(isinstance(t, str) for t in value) else None
    if not isinstance(value, str):
        return None
    return [t.strip() for t in value.replace("\n", ",").split(",") if t.strip()]


def _text(target: str, value, errors: list[FieldError]) -> str | None:
    if value is None or isinstance(value, str):
        return value
    errors.append(FieldError(target, "invalid", f"{label(target)} must be text."))
    return None


def _metadata(value, errors: list[FieldError]) -> dict:
    if value is None or value == "":
        return {}
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            errors.append(
                FieldError(METADATA_COLUMN, "invalid", 'Metadata must be a JSON object, like {"tier": "gold"}.')
            )
            return {}
    if not isinstance(value, dict) or not all(isinstance(v, str) for v in value.values()):
        errors.append(FieldError(METADATA_COLUMN, "invalid", "Metadata must be an object of text values."))
        return {}
    return value


def _outcome(
    row: Row,
    customer: Customer | None,
    data: CustomerInput | None,
    errors: list[FieldError],
    held: rules.Holders,
    claims: dict[str, int],
) -> Checked:
    if data is not None:
        errors = errors + rules.find_conflicts(data.key, data.subject_keys, customer.id if customer else None, held)
        if customer is not None:
            errors += lifecycle.currency_lock(customer, data.currency)
        for value in _ids(data):
            if claims.get(value, row.number) != row.number:
                what = f'Key "{value}"' if value == data.key else f'Subject key "{value}"'
                errors.append(
                    FieldError(
                        "key" if value == data.key else SUBJECT_KEYS,
                        "duplicate",
                        f"{what} is also in row {claims[value]:,} of this file.",
                    )
                )
    if errors:
        return Checked(row, "error", data, customer, errors)
    if customer is None:
        return Checked(row, "create", data, None)
    if data == rules.checked(rules.input_of(customer))[0]:
        return Checked(row, "unchanged", data, customer)
    return Checked(row, "update", data, customer)


def column_of(error: FieldError, headers: list[str], mapping: list[str | None]) -> str:
    """The header of the column an error is about (empty when no column holds its field)."""
    name = error.field
    if name.startswith("usageAttribution.subjectKeys"):
        name = SUBJECT_KEYS
    elif name.startswith("tags["):
        name = TAGS
    elif name.startswith(METADATA_PREFIX) and name not in mapping:
        name = METADATA_COLUMN
    for header, target in zip(headers, mapping, strict=False):
        if target == name:
            return header
    return ""


# --- Writing ------------------------------------------------------------------------------------


def write(batch: list[Checked]) -> None:
    """Write a checked batch's creates and updates into the session (the caller commits)."""
    rules.add_many([checked.data for checked in batch if checked.outcome == "create"])
    for checked in batch:
        if checked.outcome == "update":
            rules.overwrite(checked.customer, checked.data)


# --- The report ---------------------------------------------------------------------------------


@dataclass
class Report:
    """What a check (or an import) found: counts by outcome, the first errors, and every bad row
    as CSV lines (written by `bad_rows`, a line at a time)."""

    layout: Layout
    mapping: list[str | None]
    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(("create", "update", "unchanged", "error"), 0))
    errors: list[dict] = field(default_factory=list)

    @property
    def rows(self) -> int:
        return sum(self.counts.values())

    def add(self, batch: list[Checked], bad_rows: Callable[[str], None] | None = None) -> None:
        for checked in batch:
            self.counts[checked.outcome] += 1
            if checked.outcome != "error":
                continue
            described = [(column_of(e, self.layout.headers, self.mapping), e.message) for e in checked.errors]
            for column, message in described:
                if len(self.errors) < ERRORS_KEPT:
                    self.errors.append({"row": checked.row.number, "column": column, "message": message})
            if bad_rows is not None:
                bad_rows(self._bad_row(checked, described))

    def bad_rows_header(self) -> str:
        return _csv_line(["row", *self.layout.headers, "errors"])

    def _bad_row(self, checked: Checked, described: list[tuple[str, str]]) -> str:
        cells = checked.row.cells
        if isinstance(cells, dict):
            cells = [_sample(cells.get(h)) for h in self.layout.headers]
        why = "\n".join(f"{column}: {message}" if column else message for column, message in described)
        cells = [csv_cell(cell) for cell in cells[: len(self.layout.headers)]]
        return _csv_line([str(checked.row.number), *cells, why])

    def as_json(self) -> dict:
        return {
            "layout": dataclasses.asdict(self.layout),
            "mapping": self.mapping,
            "counts": self.counts,
            "rows": self.rows,
            "errors": self.errors,
        }


def _csv_line(cells: list[str]) -> str:
    line = io.StringIO()
    csv.writer(line, lineterminator="\r\n").writerow(cells)
    return line.getvalue()


def layout_of(data: dict) -> Layout:
    return Layout(**data)
