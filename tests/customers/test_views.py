"""The customers console through Flask's test client: pages, partials, errors beside fields, CSRF."""

import re
from html import unescape

from app.customers import lifecycle as customer_lifecycle
from app.customers import rules
from app.customers.rules import CustomerInput
from tests.helpers import HTMX, field_errors, make, post, text


def test_root_leads_to_the_overview(client):
    response = client.get("/")
    assert response.status_code == 302 and response.headers["Location"].endswith("/overview/")


def test_list_is_a_full_page_or_the_results_partial_for_htmx(client, app):
    make(app)
    page = client.get("/customers/")
    assert "<html" in page.text and 'id="results"' in page.text and "<main" in page.text
    partial = client.get("/customers/", headers={**HTMX, "HX-Target": "results"})
    assert "<html" not in partial.text and "Acme" in partial.text
    assert "HX-Request" in partial.headers["Vary"] and "HX-Request" in page.headers["Vary"]
    restored = client.get("/customers/", headers={**HTMX, "HX-Target": "results", "HX-History-Restore-Request": "true"})
    assert "<html" in restored.text


def test_a_list_row_shows_what_the_customer_is(client, app):
    customer_id = make(app, name="Acme <Labs>", key="acme", subjects=["m1", "m2", "m3", "m4"], currency="EUR")
    with app.app_context():
        created = rules.get(customer_id).created_at
    row = re.search(r"<tbody>\s*<tr>(.*?)</tr>", client.get("/customers/").text, re.DOTALL).group(1)
    assert f'href="/customers/{customer_id}" title="Acme &lt;Labs&gt;">Acme &lt;Labs&gt;</a>' in row
    # One line: the first subject key, and how many more (all of them in its tooltip).
    assert '<code class="truncate" title="acme">acme</code>' in row and "EUR" in row
    assert ">m1</code>" in row and ">+3</span>" in row and 'title="m2, m3, m4"' in row
    assert f'<time datetime="{created.isoformat()}">{created.date().isoformat()}</time>' in row


def test_empty_states_differ(client, app):
    assert "No customers yet" in text(client.get("/customers/"))
    make(app)
    nothing = text(client.get("/customers/?q=zebra"))
    assert "No customer matches “zebra”" in nothing and "Clear filters" in nothing


def test_search_filters_sorting_and_paging_live_in_the_query_string(client, app):
    for i in range(25):
        make(
            app,
            name=f"Customer {i:02d}",
            key=f"k{i:02d}",
            subjects=[f"meter-{i:02d}"] if i % 2 else [],
            currency="EUR" if i < 5 else None,
        )
    page = text(client.get("/customers/?size=20&page=2"))
    assert "21–25 of 25 customers" in page and "Customer 24" in page and "Customer 00" not in page
    assert "1–5 of 5" in text(client.get("/customers/?currency=EUR"))
    assert "1–12 of 12" in text(client.get("/customers/?subjects=with"))
    assert "1–13 of 13" in text(client.get("/customers/?subjects=without"))
    assert "1–1 of 1 customer" in text(client.get("/customers/?q=METER-07"))
    by_key_desc = text(client.get("/customers/?sort=-key&size=20"))
    assert by_key_desc.index("Customer 24") < by_key_desc.index("Customer 23")
    # Unknown values fall back to the defaults instead of failing.
    assert client.get("/customers/?sort=drop+table&size=7&page=x&currency=ZZZ").status_code == 200
    # A page past the end redirects to the last page.
    beyond = client.get("/customers/?size=20&page=9")
    assert beyond.status_code == 303 and "page=2" in beyond.headers["Location"]


def test_page_links_keep_the_other_arguments(client, app):
    for i in range(25):
        make(app, name=f"Customer {i:02d}", key=f"k{i:02d}")
    page = client.get("/customers/?q=customer&size=20&sort=-created")
    next_link = unescape(re.search(r'href="([^"]+)"[^>]*rel="next"', page.text).group(1))
    assert (
        "q=customer" in next_link and "sort=-created" in next_link and "size=20" in next_link and "page=2" in next_link
    )


def test_key_lookup_is_exact_and_case_sensitive(client, app):
    customer_id = make(app, key="acme")
    make(app, name="Upper", key="ACME")
    found = client.get("/customers/lookup?key=acme")
    assert found.status_code == 303 and found.headers["Location"].endswith(f"/customers/{customer_id}")
    missed = client.get("/customers/lookup?key=Acme")
    assert missed.status_code == 404
    assert "No live customer has the key Acme" in text(missed)
    assert client.get("/customers/lookup?key=acm").status_code == 404


def test_create_with_subjects_and_metadata_redirects_to_the_customer(csrf_client, app):
    response = post(
        csrf_client,
        "/customers/new",
        {
            "name": "Acme",
            "key": "acme",
            "currency": "EUR",
            "address_country": "HU",
            "address_city": "Budapest",
            "subject_keys-0": "acme",
            "subject_keys-1": "acme-eu",
            "subject_keys-2": "",
            "metadata-0-key": "tier",
            "metadata-0-value": "gold",
            "action": "save",
        },
    )
    assert response.status_code == 303
    page = csrf_client.get(response.headers["Location"])
    shown = text(page)
    assert "Customer “Acme” saved." in shown
    assert "acme-eu" in shown and "gold" in shown and "Budapest" in shown and "Hungary" in shown and "Euro" in shown


def test_save_and_add_another_returns_to_an_empty_form(csrf_client):
    response = post(csrf_client, "/customers/new", {"name": "Acme", "key": "acme", "action": "save_add"})
    assert response.status_code == 303 and response.headers["Location"].endswith("/customers/new")
    assert "Add another one below" in text(csrf_client.get("/customers/new"))


def test_every_error_sits_beside_its_field_and_input_is_kept(csrf_client, app):
    make(app, name="Holder Ltd", key="taken", subjects=["busy-subject"])
    response = post(
        csrf_client,
        "/customers/new",
        {
            "name": "",
            "key": "taken",
            "primary_email": "not-an-email",
            "currency": "ZZZ",
            "address_country": "XX",
            "address_city": "Szeged",
            "description": "kept text",
            "subject_keys-0": "busy-subject",
            "metadata-0-key": "k" * 41,
            "metadata-0-value": "v",
            "action": "save",
        },
    )
    assert response.status_code == 422
    errors = field_errors(response)
    assert "Name is required." in errors
    assert any("Holder Ltd" in e and "Open that customer" in e for e in errors)  # key conflict, linked
    assert any(e.startswith('Subject key "busy-subject" is already') for e in errors)
    assert any("Primary email is not valid" in e for e in errors)
    assert any("ISO 4217" in e for e in errors) and any("ISO 3166" in e for e in errors)
    assert any("at most 40 characters" in e for e in errors)
    # Everything typed is still there.
    for kept in ('value="taken"', 'value="not-an-email"', 'value="Szeged"', "kept text", 'value="busy-subject"'):
        assert kept in response.text
    assert 'aria-invalid="true"' in response.text and "There are" in response.text


def test_a_key_or_subject_is_required(csrf_client):
    response = post(csrf_client, "/customers/new", {"name": "Lonely", "key": "", "action": "save"})
    assert response.status_code == 422
    assert "Give the customer a key, a subject key, or both." in field_errors(response)


def test_duplicate_metadata_keys_are_refused_on_the_second_row(csrf_client):
    response = post(
        csrf_client,
        "/customers/new",
        {
            "name": "A",
            "key": "a",
            "metadata-0-key": "x",
            "metadata-0-value": "1",
            "metadata-1-key": "x",
            "metadata-1-value": "2",
            "action": "save",
        },
    )
    assert response.status_code == 422
    assert 'Metadata key "x" is used twice.' in field_errors(response)


def test_rows_are_added_and_removed_without_javascript(csrf_client):
    data = {"name": "Acme", "key": "acme", "subject_keys-0": "one", "subject_keys-1": "two"}
    added = post(csrf_client, "/customers/new", {**data, "action": "add_subject"})
    assert added.status_code == 200 and "<html" in added.text
    assert 'name="subject_keys-2"' in added.text and 'value="two"' in added.text and 'value="Acme"' in added.text
    removed = post(csrf_client, "/customers/new", {**data, "action": "remove_subject-0"})
    assert 'value="one"' not in removed.text and 'value="two"' in removed.text
    added_meta = post(csrf_client, "/customers/new", {**data, "metadata-0-key": "a", "action": "add_metadata"})
    assert 'name="metadata-1-key"' in added_meta.text


def test_rows_come_back_as_a_partial_for_htmx(csrf_client):
    response = post(
        csrf_client,
        "/customers/new",
        {"name": "A", "subject_keys-0": "one", "action": "add_subject"},
        headers={**HTMX, "HX-Target": "subjects-fieldset"},
    )
    assert response.text.lstrip().startswith("<fieldset") and 'name="subject_keys-1"' in response.text


def test_live_check_names_and_links_the_holder(client, app):
    holder = make(app, name="Holder Ltd", key="taken", subjects=["meter-1"])
    taken = client.get("/customers/check?key=taken", headers=HTMX)
    assert "Holder Ltd" in text(taken) and f"/customers/{holder}" in taken.text
    assert "No other customer has this key" in text(client.get("/customers/check?key=free", headers=HTMX))
    assert "Holder Ltd" in text(client.get("/customers/check?subject_keys-3=meter-1", headers=HTMX))
    # Its own values are no conflict while editing it.
    assert "No other customer" in text(client.get(f"/customers/check?key=taken&customer_id={holder}", headers=HTMX))
    assert "cannot begin or end with spaces" in text(client.get("/customers/check?key=+x", headers=HTMX))


def test_edit_saves_and_a_stale_edit_is_refused_showing_current_values(csrf_client, app):
    customer_id = make(app, name="Acme", key="acme")
    form = csrf_client.get(f"/customers/{customer_id}/edit")
    assert 'value="Acme"' in form.text and 'name="version"' in form.text
    # Someone else saves first.
    with app.app_context():
        customer_lifecycle.replace(customer_id, CustomerInput(name="Acme by someone else", key="acme"))
    stale = post(
        csrf_client,
        f"/customers/{customer_id}/edit",
        {"name": "Acme mine", "key": "acme", "version": "1", "billing_version": "0", "action": "save"},
    )
    assert stale.status_code == 409
    shown = text(stale)
    assert "Someone else changed this customer" in shown and "Acme by someone else" in shown
    assert 'value="Acme mine"' in stale.text and 'name="version" type="hidden" value="2"' in stale.text
    # Saving again, having seen theirs, is deliberate and goes through.
    again = post(
        csrf_client,
        f"/customers/{customer_id}/edit",
        {"name": "Acme mine", "key": "acme", "version": "2", "billing_version": "0", "action": "save"},
    )
    assert again.status_code == 303
    with app.app_context():
        assert rules.get(customer_id).name == "Acme mine"


def test_writes_without_csrf_are_refused(client, app):
    customer_id = make(app)
    assert client.post("/customers/new", data={"name": "A", "key": "a"}).status_code == 400
    assert client.post(f"/customers/{customer_id}/edit", data={"name": "A", "key": "a"}).status_code == 400
    assert client.post(f"/customers/{customer_id}/delete").status_code == 400
    with app.app_context():
        assert rules.get(customer_id).deleted_at is None


def test_htmx_writes_carry_the_csrf_token_in_a_header(app):
    client = app.test_client()
    page = client.get("/customers/new")
    token = re.search(r"hx-headers='\{&#34;X-CSRFToken&#34;: &#34;([^&]+)&#34;\}'", page.text).group(1)
    response = client.post(
        "/customers/new",
        data={"name": "A", "action": "add_subject"},
        headers={**HTMX, "X-CSRFToken": token, "HX-Target": "subjects-fieldset"},
    )
    assert response.status_code == 200


def test_customer_page_shows_every_field(client, app):
    customer_id = make(
        app,
        name="Acme",
        key="acme",
        subjects=["acme", "acme-eu"],
        description="Our biggest",
        primary_email="ops@acme.example",
        currency="JPY",
        metadata={"tier": "gold"},
    )
    shown = text(client.get(f"/customers/{customer_id}"))
    for part in (
        "Acme",
        "acme-eu",
        "Our biggest",
        "ops@acme.example",
        "JPY",
        "Yen",
        "tier",
        "gold",
        "Created",
        "Updated",
        customer_id,
    ):
        assert part in shown
    assert client.get("/customers/01ZZZZZZZZZZZZZZZZZZZZZZZZ").status_code == 404


def test_delete_confirms_then_frees_the_key(csrf_client, app):
    customer_id = make(app, key="acme", subjects=["acme", "meter-9"])
    confirm = text(csrf_client.get(f"/customers/{customer_id}/delete"))
    assert "its key acme becomes free" in confirm and "meter-9" in confirm
    done = post(csrf_client, f"/customers/{customer_id}/delete", {})
    assert done.status_code == 303 and done.headers["Location"].endswith("/customers/")
    assert "Free for reuse now: acme, meter-9." in text(csrf_client.get("/customers/"))
    deleted_page = text(csrf_client.get(f"/customers/{customer_id}"))
    assert "This customer was deleted" in deleted_page and "Edit" not in deleted_page.split("This customer")[0][-50:]
    assert csrf_client.get(f"/customers/{customer_id}/edit").status_code == 303
    assert "deleted" in text(csrf_client.get("/customers/?deleted=1"))
    assert "No customers yet" in text(csrf_client.get("/customers/"))
    assert post(csrf_client, "/customers/new", {"name": "New Acme", "key": "acme", "action": "save"}).status_code == 303


def test_output_is_escaped(client, app):
    customer_id = make(app, name="<script>alert(1)</script>", key="<b>k</b>")
    page = client.get(f"/customers/{customer_id}")
    assert "<script>alert(1)</script>" not in page.text and "&lt;script&gt;alert(1)&lt;/script&gt;" in page.text


def test_page_links_carry_a_keyset_cursor(client, app):
    for i in range(45):
        make(app, name=f"Customer {i:02d}", key=f"k{i:02d}")
    first = client.get("/customers/?size=20")
    next_link = unescape(re.search(r'href="([^"]+)"[^>]*rel="next"', first.text).group(1))
    assert "after=" in next_link and "page=2" in next_link
    second = client.get(next_link)
    assert "21–40 of 45 customers" in text(second) and "Customer 20" in text(second)
    last_link = unescape(re.search(r'href="([^"]+)"[^>]*aria-label="Page 3"', second.text).group(1))
    assert "41–45 of 45" in text(client.get(last_link))
    # A hand-edited cursor still gives the right page, by offset.
    assert "21–40 of 45" in text(client.get("/customers/?size=20&page=2&after=garbage"))
