"""ISO reference data: the currencies and countries a customer may have.

Codes come from pycountry (ISO 4217 / ISO 3166-1); symbols and minor units from Babel's CLDR data.
Both are computed once per process: they are read-only facts, not state.
"""

from dataclasses import dataclass
from functools import cache

import pycountry
from babel.numbers import get_currency_precision, get_currency_symbol

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


@cache
def currencies() -> dict[str, Currency]:
    found = {}
    for c in sorted(pycountry.currencies, key=lambda c: c.alpha_3):
        if c.alpha_3 in NOT_FIAT:
            continue
        found[c.alpha_3] = Currency(
            code=c.alpha_3,
            name=c.name,
            symbol=get_currency_symbol(c.alpha_3, locale="en"),
            subunits=get_currency_precision(c.alpha_3),
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
    return [("", blank)] + [(c.code, c.name) for c in sorted(countries().values(), key=lambda c: c.name)]
