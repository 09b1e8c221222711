"""The display filters (app/display.py): what an operator reads for money, durations, counts and times."""

from datetime import UTC, datetime, timedelta, timezone

import pytest

from app.display import cadence, dash, duration, money, plural, when


@pytest.mark.parametrize(
    ("amount", "currency", "shown"),
    [
        (1000, "JPY", "¥1,000"),  # no minor unit
        (4900, "USD", "$49.00"),
        (4900, "EUR", "€49.00"),
        (123456789, "EUR", "€1,234,567.89"),
        (1500, "KWD", "1.500 KWD"),  # three decimals, no unambiguous symbol
        (4900, "CHF", "49.00 CHF"),
        (4900, "CAD", "CA$49.00"),  # "$" alone is the US dollar
        (4900, "AUD", "A$49.00"),
        (5, "USD", "$0.05"),
        (-250, "GBP", "-£2.50"),
        (0, "EUR", "€0.00"),
        (100000000, "XOF", "100,000,000 XOF"),  # a lettered symbol ("F CFA") reads better as the code
        (1250, "ZZZ", "1,250 ZZZ"),  # a code ISO does not know: no decimals assumed
    ],
)
def test_money_is_written_for_its_currency(amount, currency, shown):
    assert money(amount, currency) == shown


def test_money_without_an_amount_is_a_dash():
    assert money(None, "EUR") == "—"


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        ("P1M", "1 month"),
        ("PT1H", "1 hour"),
        ("P30D", "30 days"),
        ("P1Y6M", "1 year 6 months"),
        ("P2W", "2 weeks"),
        ("PT90M", "90 minutes"),
        ("P1DT12H", "1 day 12 hours"),
        ("P0D", "no time"),
        ("monthly", "monthly"),  # not a duration: as it is
        ("P", "P"),
        (None, "—"),
        ("", "—"),
    ],
)
def test_durations_read_as_words(value, shown):
    assert duration(value) == shown


@pytest.mark.parametrize(
    ("value", "shown"),
    [("P1M", "monthly"), ("P1Y", "yearly"), ("P1W", "weekly"), ("P1D", "daily"), ("P3M", "every 3 months")],
)
def test_cadences_read_as_how_often(value, shown):
    assert cadence(value) == shown


@pytest.mark.parametrize(
    ("args", "shown"),
    [
        ((1, "customer"), "1 customer"),
        ((0, "customer"), "0 customers"),
        ((3, "customer"), "3 customers"),
        ((1204, "customer"), "1,204 customers"),
        ((2, "entry", "entries"), "2 entries"),
        ((1, "entry", "entries"), "1 entry"),
    ],
)
def test_plural(args, shown):
    assert plural(*args) == shown


@pytest.mark.parametrize("empty", [None, "", "  ", [], {}])
def test_empty_values_are_a_dash(empty):
    assert dash(empty) == "—"


@pytest.mark.parametrize("value", [0, False, "x", ["a"]])
def test_values_are_kept(value):
    assert dash(value) == value


def test_times_are_to_the_second_in_utc_in_a_time_element():
    tokyo = timezone(timedelta(hours=9))
    shown = str(when(datetime(2026, 12, 2, 4, 59, 27, 458889, tzinfo=tokyo)))
    assert shown == '<time datetime="2026-12-01T19:59:27+00:00">2026-12-01 19:59:27 UTC</time>'
    assert str(when(datetime(2026, 12, 1, 19, 59, 27))) == shown  # the database's naive times are UTC
    assert str(when("2026-12-01T19:59:27.458889+00:00")) == shown  # as the history keeps them
    assert when(None) == "—" and when("not a time") == "not a time"


def test_filters_are_registered_on_the_app(app):
    template = app.jinja_env.from_string(
        "{{ 1000|money('JPY') }} {{ 'PT1H'|duration }} {{ 2|plural('app') }} {{ none|dash }}"
    )
    assert template.render() == "¥1,000 1 hour 2 apps —"
    assert "UTC</time>" in app.jinja_env.from_string("{{ t|when }}").render(t=datetime.now(UTC))
