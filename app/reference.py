"""ISO reference data: the currencies and countries a customer may have.

Codes come from pycountry (ISO 4217 / ISO 3166-1); minor units from ISO 4217's own table (the
iso4217 package): ISO says how many decimals an amount may have, while CLDR's digits (Babel) say
how a currency is usually shown, and change between releases (HUF went from 2 to 0). Symbols are
display data, so they come from Babel's CLDR. All are computed once per process: read-only facts.
"""

from dataclasses import dataclass
from functools import cache

import iso4217
import pycountry
from babel.numbers import get_currency_symbol

from app.text_rules import sort_key

# ISO 4217 codes that are not money a customer can pay in: precious metals, IMF and bond-market
# units, the test and "no currency" codes, and the fund codes (BOV, CLF, …) that accompany a fiat one.
NOT_FIAT = {
    "XAG",
    "XAU",
    "XPD",
    "XPT",
    "XBA",
    "XBB",
    "XBC",
    "XBD",
    "XDR",
    "XSU",
    "XUA",
    "XTS",
    "XXX",
    "BOV",
    "CHE",
    "CHW",
    "CLF",
    "COU",
    "MXV",
    "USN",
    "UYI",
    "UYW",
}


@dataclass(frozen=True)
class Currency:
    code: str
    name: str
    symbol: str
    subunits: int  # digits after the decimal point (2 for USD, 0 for JPY)


@dataclass(frozen=True)
class Country:
    code: str
    name: str


def minor_units(code: str) -> int | None:
    """The decimals an amount in this ISO 4217 currency may have, or None where ISO states none."""
    try:
        return iso4217.Currency(code).exponent
    except ValueError:  # a code ISO's table does not know
        return None


@cache
def currencies() -> dict[str, Currency]:
    found = {}
    for c in sorted(pycountry.currencies, key=lambda c: c.alpha_3):
        subunits = minor_units(c.alpha_3)
        if c.alpha_3 in NOT_FIAT or subunits is None:  # an amount that cannot be written cannot be priced
            continue
        found[c.alpha_3] = Currency(
            code=c.alpha_3, name=c.name, symbol=get_currency_symbol(c.alpha_3, locale="en"), subunits=subunits
        )
    return found


@cache
def countries() -> dict[str, Country]:
    return {
        c.alpha_2: Country(code=c.alpha_2, name=getattr(c, "common_name", c.name))
        for c in sorted(pycountry.countries, key=lambda c: c.alpha_2)
    }


def country_choices(blank: str) -> list[tuple[str, str]]:
    """The country picker's options by name, after a first empty one labelled `blank`."""
    by_name = sorted(countries().values(), key=lambda c: sort_key(c.name))  # Åland Islands with the As
    return [("", blank)] + [(c.code, c.name) for c in by_name]
