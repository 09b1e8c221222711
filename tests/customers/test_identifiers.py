"""Identifiers that hold under attack (issue 16): keys, subject keys and metadata keys refuse
characters that do not show, are compared in Unicode's composed form, and a customer's subject
keys are bounded and claimed in linear time."""

import pytest

from app.common import SUBJECT_KEYS_MAX
from app.text_rules import hidden_character
from tests.helpers import problem_fields

URL = "/api/v1/customers"

# Each makes "acme…" look like "acme" (or like another key) while being another string.
HIDDEN = {
    "\u200b": "ZERO WIDTH SPACE",
    "\u200d": "ZERO WIDTH JOINER",
    "\u200e": "LEFT-TO-RIGHT MARK",
    "\u202e": "RIGHT-TO-LEFT OVERRIDE",
    "\ufeff": "ZERO WIDTH NO-BREAK SPACE",
    "\u00ad": "SOFT HYPHEN",
    "\U000e0041": "TAG LATIN CAPITAL LETTER A",
    "\u3164": "HANGUL FILLER",
    "\ufe0f": "VARIATION SELECTOR-16",
    "\u00a0": "NO-BREAK SPACE",
    "\ue000": "",  # private use: no name
}


@pytest.mark.parametrize("char", HIDDEN)
@pytest.mark.parametrize(
    ("place", "body"),
    [
        ("key", lambda c: {"name": "Acme", "key": f"ac{c}me"}),
        (
            "usageAttribution.subjectKeys[1]",
            lambda c: {"name": "Acme", "usageAttribution": {"subjectKeys": ["ok", f"ac{c}me"]}},
        ),
        ("metadata.ac{c}me", lambda c: {"name": "Acme", "key": "acme", "metadata": {f"ac{c}me": "x"}}),
    ],
)
def test_a_hidden_character_is_refused_naming_the_field_and_the_character(client, char, place, body):
    response = client.post(URL, json=body(char))
    assert response.status_code == 400
    field = place.replace("{c}", char)
    assert problem_fields(response).get(field) == "hidden_character", response.json
    message = next(e["message"] for e in response.json["extensions"]["validationErrors"] if e["field"] == field)
    assert f"U+{ord(char):04X} {HIDDEN[char]}".strip() in message and "at position 3" in message


def test_display_names_and_metadata_values_may_hold_any_printable_text(client):
    body = {"name": "Ac\u200dme ✨ «Ünïcode»", "key": "acme", "metadata": {"note": "é\u00a0ok"}}
    assert client.post(URL, json=body).status_code == 201


def test_keys_are_compared_in_composed_form(client):
    decomposed, composed = "cafe\u0301", "caf\u00e9"
    created = client.post(
        URL, json={"name": "Café", "key": decomposed, "usageAttribution": {"subjectKeys": ["s\u0301"]}}
    )
    assert created.status_code == 201 and created.json["key"] == composed
    assert created.json["usageAttribution"]["subjectKeys"] == ["\u015b"]
    assert client.get(f"{URL}/{composed}").json["id"] == created.json["id"]
    again = client.post(URL, json={"name": "Other", "key": composed})
    assert again.status_code == 409 and problem_fields(again) == {"key": "conflict"}


def test_the_hidden_character_check_names_the_first_one():
    assert hidden_character("plain key-1_2.3 with spaces") is None
    assert (
        hidden_character("a\u200bb\u200cc")
        == "an invisible formatting character, U+200B ZERO WIDTH SPACE, at position 2"
    )


def test_a_customer_has_at_most_the_documented_number_of_subject_keys(client):
    too_many = [f"sub-{i}" for i in range(SUBJECT_KEYS_MAX + 1)]
    response = client.post(URL, json={"name": "Big", "usageAttribution": {"subjectKeys": too_many}})
    assert response.status_code == 400
    assert problem_fields(response) == {"usageAttribution.subjectKeys": "too_many"}
    assert f"at most {SUBJECT_KEYS_MAX:,}" in response.json["detail"]
    document = client.get("/api/v1/openapi.json").json
    subject_keys = document["components"]["schemas"]["CustomerUsageAttribution"]["properties"]["subjectKeys"]
    assert subject_keys["maxItems"] == SUBJECT_KEYS_MAX
    assert f"up to {SUBJECT_KEYS_MAX:,}" in client.get("/customers/new").text


def test_the_most_subject_keys_of_the_longest_length_are_saved_and_replaced(client):
    """On PostgreSQL a search index once refused such a row (its entries have a size limit)."""
    keys = [f"{i:04d}-" + "x" * 251 for i in range(SUBJECT_KEYS_MAX)]
    created = client.post(URL, json={"name": "Big", "usageAttribution": {"subjectKeys": keys}})
    assert created.status_code == 201, created.json
    # Replacing keeps the half that stays (their rows are reused) and claims the new half.
    keys = keys[::2] + [f"new-{i:04d}" for i in range(SUBJECT_KEYS_MAX // 2)]
    replaced = client.put(
        f"{URL}/{created.json['id']}", json={"name": "Big", "usageAttribution": {"subjectKeys": keys}}
    )
    assert replaced.status_code == 200 and replaced.json["usageAttribution"]["subjectKeys"] == keys
    assert client.get(URL, query_string={"subject": "new-0499"}).json["items"][0]["id"] == created.json["id"]


def test_stored_identifiers_that_break_the_rules_are_reported_not_rewritten(app):
    from sqlalchemy import update

    from app.customers.models import Customer, CustomerIdentifier
    from app.extensions import db
    from tests.helpers import make

    customer_id = make(app, name="Old Row", key="old-key", subjects=["meter-1"])
    with app.app_context():  # as a row written before the rules would be
        db.session.execute(
            update(CustomerIdentifier).where(CustomerIdentifier.value == "meter-1").values(value="meter\u200b1")
        )
        db.session.execute(
            update(Customer).where(Customer.id == customer_id).values({Customer.metadata_: {"cafe\u0301": "x"}})
        )
        db.session.commit()
    result = app.test_cli_runner().invoke(args=["identifiers-report"])
    assert result.exit_code == 0
    assert (
        f"Customer \"Old Row\" ({customer_id}): subject key 'meter\\u200b1' contains an invisible formatting character, U+200B ZERO WIDTH SPACE, at position 6."
        in result.output
    )
    assert "metadata key 'cafe\\u0301' is not in Unicode's composed form (NFC)." in result.output
    assert "2 identifiers break the rules." in result.output
    with app.app_context():
        assert (
            db.session.scalar(
                db.select(CustomerIdentifier.value).where(
                    CustomerIdentifier.customer_id == customer_id, CustomerIdentifier.is_subject
                )
            )
            == "meter\u200b1"
        )
