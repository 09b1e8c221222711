"""How values read in the console: one place for the Jinja filters every template uses.

- `dash`: an empty value (None, "", [], {}) as "—", never the word "None";
- `money(amount_minor, currency)`: "¥1,000", "$49.00", "CA$49.00", "1.500 KWD";
- `duration` / `cadence`: ISO 8601 durations in words ("PT1H" → "1 hour", "P1M" → "monthly");
- `price(plan)`: "¥1,000 monthly";
- `plural(n, "customer")`: "1 customer", "1,204 customers";
- `when`: a time to the second, in UTC and said so, inside <time datetime=…> so a script may show it
  in the reader's own zone (there is no per-operator time zone).

Each filter takes what the database holds and never raises: a value it cannot read is shown as it
is (escaped by Jinja), so a page never fails because of an odd value.
"""

import re
from datetime import UTC, datetime

from markupsafe import Markup

from app.reference import currencies, minor_units

EMPTY = "—"


def is_empty(value) -> bool:
    """None, blank text and empty collections read as nothing; 0 and False are values."""
    if value is None:
        return True
    if isinstance(value, str):
        return not value.strip()
    return isinstance(value, list | tuple | dict | set) and not value


def dash(value):
    return EMPTY if is_empty(value) else value


def money(amount_minor, currency: str | None) -> str:
    """An amount in ISO 4217 minor units, written for its currency: "¥1,000", "$49.00", "€49.00".

    The digits after the point are ISO's (2 for USD, 0 for JPY, 3 for KWD). A symbol goes in front
    when CLDR's English one is unambiguous (it is "CA$" for Canadian dollars, "$" only for US ones);
    a currency whose English symbol is its code, or letters (FCFA), is written "49.00 CHF"."""
    if amount_minor is None or isinstance(amount_minor, bool):
        return EMPTY
    try:
        amount = int(amount_minor)
    except (TypeError, ValueError):
        return str(amount_minor)
    code = (currency or "").upper()
    known = currencies().get(code)
    digits = known.subunits if known else (minor_units(code) or 0) if code else 0
    sign = "-" if amount < 0 else ""
    whole, fraction = divmod(abs(amount), 10**digits)
    number = f"{whole:,}" + (f".{fraction:0{digits}d}" if digits else "")
    symbol = known.symbol if known else ""
    if symbol and symbol != code and not symbol[-1].isalpha() and symbol[-1] != ".":
        return f"{sign}{symbol}{number}"
    return f"{sign}{number} {code}".rstrip()


# PnYnMnWnDTnHnMnS, ASCII digits only (fractions of seconds are left as written).
_DURATION = re.compile(
    r"P(?:([0-9]{1,9})Y)?(?:([0-9]{1,9})M)?(?:([0-9]{1,9})W)?(?:([0-9]{1,9})D)?"
    r"(?:T(?:([0-9]{1,9})H)?(?:([0-9]{1,9})M)?(?:([0-9]{1,9})S)?)?"
)
_UNITS = ("year", "month", "week", "day", "hour", "minute", "second")
# The single-unit cadences that have a word of their own.
_EVERY = {"year": "yearly", "month": "monthly", "week": "weekly", "day": "daily", "hour": "hourly"}


def _parts(value) -> list[tuple[int, str]] | None:
    if not isinstance(value, str):
        return None
    match = _DURATION.fullmatch(value.strip())
    if match is None or value.strip() in ("P", "PT") or value.strip().endswith("T"):
        return None
    return [(int(n), unit) for n, unit in zip(match.groups(), _UNITS) if n is not None]


def duration(value) -> str:
    """ "P1M" → "1 month", "PT1H" → "1 hour", "P30D" → "30 days", "P1Y6M" → "1 year 6 months";
    "P0D" → "no time"; anything that is no ISO 8601 duration as it is (empty as "—")."""
    if is_empty(value):
        return EMPTY
    parts = _parts(value)
    if parts is None:
        return str(value)
    shown = [plural(n, unit) for n, unit in parts if n]
    return " ".join(shown) if shown else "no time"


def cadence(value) -> str:
    """A billing cadence in words: "P1M" → "monthly", "P3M" → "every 3 months"."""
    if is_empty(value):
        return EMPTY
    parts = [(n, unit) for n, unit in (_parts(value) or []) if n]
    if len(parts) == 1 and parts[0][0] == 1 and parts[0][1] in _EVERY:
        return _EVERY[parts[0][1]]
    if not parts:
        return str(value)
    return f"every {duration(value)}"


def price(plan) -> str:
    """A plan's price and cadence: "¥1,000 monthly", "€49.00 every 3 months"."""
    return f"{money(plan.amount, plan.currency)} {cadence(plan.billing_cadence)}"


def plural(n, singular: str, plural_form: str | None = None) -> str:
    """ "1 customer", "0 customers", "1,204 customers"; `plural_form` for words not made with -s."""
    try:
        count = int(n)
    except (TypeError, ValueError):
        return f"{n} {plural_form or singular + 's'}"
    word = singular if count == 1 else (plural_form or singular + "s")
    return f"{count:,} {word}"


def size(n: int) -> str:
    """A file's size as people read it: "812 bytes", "4.2 MB", "2.0 GB" (in powers of 1,024, as
    file managers and the limits in the settings count)."""
    if n < 1024:
        return plural(n, "byte")
    for unit in ("KB", "MB", "GB", "TB"):
        n /= 1024
        if n < 1024 or unit == "TB":
            return f"{n:,.1f} {unit}"
    raise AssertionError("unreachable")


def utc_text(moment: datetime) -> str:
    """ "2026-12-01 19:59:27 UTC": to the second, in UTC, and saying so."""
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC)
    return moment.strftime("%Y-%m-%d %H:%M:%S UTC")


def when(moment) -> Markup | str:
    """A time as <time datetime="…">2026-12-01 19:59:27 UTC</time>; ISO text (as the history
    keeps times) is read too; anything else is shown as it is, empty as "—"."""
    if is_empty(moment):
        return EMPTY
    if isinstance(moment, str):
        try:
            moment = datetime.fromisoformat(moment.strip())
        except ValueError:
            return moment
    if not isinstance(moment, datetime):
        return str(moment)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)  # the database holds UTC
    iso = moment.astimezone(UTC).isoformat(timespec="seconds")
    return Markup('<time datetime="{}">{}</time>').format(iso, utc_text(moment))


FILTERS = {
    "dash": dash,
    "money": money,
    "duration": duration,
    "cadence": cadence,
    "price": price,
    "plural": plural,
    "size": size,
    "when": when,
}


def init_app(app) -> None:
    app.jinja_env.filters.update(FILTERS)
