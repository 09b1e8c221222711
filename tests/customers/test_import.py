"""Importing customers: the console's upload, check, column mapping and import, and the file
reading behind them (encodings, separators, bad files)."""

import csv
import io
import json
import re

import pytest

from app.customers import importing, lifecycle, rules
from app.extensions import db
from app.history.models import Change
from app.jobs.models import Job
from app.plans import rules as plan_rules
from tests.helpers import make, post, text

UPLOAD = "/customers/import/"


def upload(client, body: bytes | str, name: str = "customers.csv"):
    """Upload a file; answer the page the check lands on."""
    data = body.encode() if isinstance(body, str) else body
    response = post(client, UPLOAD, {"file": (io.BytesIO(data), name)}, content_type="multipart/form-data")
    assert response.status_code == 303, response.text
    return client.get(response.headers["Location"])


def job_of(page) -> str:
    return re.search(r"/customers/import/([0-9A-Z]{26})", page.request.path).group(1)


def apply(client, page):
    response = post(client, f"/customers/import/{job_of(page)}/apply")
    assert response.status_code == 303, response.text
    return client.get(response.headers["Location"])


def customers(app) -> dict[str, rules.Customer]:
    with app.app_context():
        found = db.session.scalars(db.select(rules.Customer).where(rules.Customer.deleted_at.is_(None))).all()
        return {c.key or c.subject_keys[0]: c for c in found}


CSV = 'key,name,email,currency,country,subject_keys\r\nacme,Acme Inc,billing@acme.example,EUR,fr,acme\r\nglobex,Globex,,USD,,"globex\nglobex-eu"\r\n'


def test_a_file_is_checked_first_and_writes_nothing_until_imported(app, csrf_client):
    page = upload(csrf_client, CSV)
    shown = text(page)
    assert "2 customers to create" in shown and "0 customers to update" in shown
    assert "UTF-8, separated by commas" in shown
    assert customers(app) == {}
    done = apply(csrf_client, page)
    assert "2 customers created" in text(done)
    made = customers(app)
    assert made["acme"].name == "Acme Inc" and made["acme"].primary_email == "billing@acme.example"
    assert made["acme"].address_country == "FR" and made["acme"].currency == "EUR"
    assert made["globex"].subject_keys == ["globex", "globex-eu"]


def test_the_same_file_twice_changes_nothing_the_second_time(app, csrf_client):
    apply(csrf_client, upload(csrf_client, CSV))
    again = upload(csrf_client, CSV)
    assert "2 rows unchanged" in text(again) and "Nothing to import" in text(again)


def test_rows_update_by_key_and_only_the_columns_in_the_file(app, csrf_client):
    make(app, name="Acme", key="acme", primary_email="old@acme.example", metadata={"tier": "gold"}, currency="EUR")
    page = upload(csrf_client, "key,name\nacme,Acme Renamed\nnew,New One\n")
    assert "1 customer to create" in text(page) and "1 customer to update" in text(page)
    apply(csrf_client, page)
    acme = customers(app)["acme"]
    assert acme.name == "Acme Renamed"
    assert acme.primary_email == "old@acme.example" and acme.metadata_ == {"tier": "gold"}


def test_every_row_error_is_listed_with_its_row_column_and_message(app, csrf_client):
    holder = make(app, name="Holder Ltd", key="taken")
    body = (
        "key,name,email,currency,country,subject_keys\n"
        "ok,Fine,,,,\n"
        "taken,Wants the key,,,,\n"  # 3: updates "taken": fine
        "bad1,,not-an-email,XXX,ZZ,\n"  # 4: name, email, currency, country
        "dup,One,,,,dup\n"
        "dup,Two,,,,\n"  # 6: the key is in row 5
        "sub,Sub,,,,taken\n"  # 7: subject held as key by Holder Ltd
    )
    page = upload(csrf_client, body)
    shown = text(page)
    assert "2 customers to create" in shown and "1 customer to update" in shown and "3 rows with errors" in shown
    errors = re.findall(r"<tr><td>([\d,]+)</td><td>(.*?)</td><td[^>]*>(.*?)</td></tr>", page.text)
    by_row = {}
    for row, column, message in errors:
        by_row.setdefault(int(row), []).append((re.sub("<[^>]+>", "", column), message))
    assert {c for c, _ in by_row[4]} == {"name", "email", "currency", "country"}
    assert any("also in row 5" in m for _, m in by_row[6])
    assert any("Holder Ltd" in m and holder in m for _, m in by_row[7])
    assert "Import:" not in shown  # nothing can be imported while rows have errors
    bad = csrf_client.get(f"/jobs/{job_of(page)}/download")
    rows = list(csv.reader(io.StringIO(bad.get_data(as_text=True))))
    assert rows[0] == ["row", "key", "name", "email", "currency", "country", "subject_keys", "errors"]
    assert [r[0] for r in rows[1:]] == ["4", "6", "7"]
    assert rows[1][1:7] == ["bad1", "", "not-an-email", "XXX", "ZZ", ""]
    assert "name: Name is required." in rows[1][7] and "currency:" in rows[1][7]


def test_a_refused_apply_writes_nothing(app, csrf_client):
    page = upload(csrf_client, "key,name\na,A\nb,B\n")
    make(app, name="Meanwhile", key="zz", subjects=["b"])  # "b" taken after the check
    done = apply(csrf_client, page)
    assert "Nothing was written" in text(done)
    assert set(customers(app)) == {"zz"}


def test_the_history_names_the_operator_and_the_import(app, csrf_client):
    done = apply(csrf_client, upload(csrf_client, "key,name\nacme,Acme\n"))
    with app.app_context():
        change = db.session.scalars(db.select(Change).where(Change.entity_type == "customer")).one()
        assert change.actor_name == "test-admin" and change.job_id == job_of(done)
    activity = text(csrf_client.get(f"/activity/?job={job_of(done)}"))
    assert "Only the changes made by Import of customers.csv" in activity and "Acme" in activity


def test_columns_can_be_mapped_and_checked_again(app, csrf_client):
    page = upload(csrf_client, "Kundennummer,Firma,Stufe\nk1,Eins GmbH,gold\n")
    assert "No column is imported as Key" in text(page)
    response = post(
        csrf_client,
        f"/customers/import/{job_of(page)}/mapping",
        {"column-0": "key", "column-1": "name", "column-2": "metadata.Stufe"},
    )
    assert response.status_code == 303
    again = csrf_client.get(response.headers["Location"])
    assert "1 customer to create" in text(again)
    apply(csrf_client, again)
    assert customers(app)["k1"].metadata_ == {"Stufe": "gold"}


def test_the_export_round_trips(app, csrf_client):
    make(app, name="=Formula Co", key="-minus", subjects=["a", "b"], metadata={"x": "1"}, currency="JPY")
    page = upload(csrf_client, csrf_client.get("/api/v1/customers/export").data)
    assert "1 row unchanged" in text(page), text(page)


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (b"", "The file is empty."),
        (b"key,name\n", "header row but no customers"),
        (b"PK\x03\x04\x00\x00binary", "Excel workbook"),
        ("\ufeffkey,name".encode("utf-16"), "UTF-16"),
        (b'[{"key": "a"}]', "JSON array"),
        (("key,name\n" + "a," + "x" * 1_000_000 + "\n").encode(), "longer than 300,000 characters"),
        (("," * 10_000 + "\n").encode(), "10,001 columns"),
    ],
)
def test_bad_files_are_refused_with_a_clear_message(app, csrf_client, body, expected):
    page = upload(csrf_client, body)
    assert expected in text(page), text(page)
    assert customers(app) == {}


def test_a_row_with_too_many_cells_is_an_error_of_its_row(app, csrf_client):
    page = upload(csrf_client, "key,name\na,A\nb,B" + ",x" * 10_000 + "\n")
    assert "10,002 cells; the header has 2" in text(page)


def test_latin1_semicolons_and_crlf_are_read(app, csrf_client):
    body = "key;name;city\r\nzoe;Zoë Café;Köln\r\n".encode("cp1252")
    page = upload(csrf_client, body)
    assert "Windows-1252 (Latin-1), separated by semicolons" in text(page)
    apply(csrf_client, page)
    assert customers(app)["zoe"].name == "Zoë Café" and customers(app)["zoe"].address_city == "Köln"


def test_tabs_and_json_lines_are_read(app, csrf_client):
    apply(csrf_client, upload(csrf_client, "key\tname\nt1\tTab One\n", "c.tsv"))
    lines = json.dumps(
        {
            "key": "j1",
            "name": "Json One",
            "billingAddress": {"country": "DE"},
            "usageAttribution": {"subjectKeys": ["j1", "j1-b"]},
        }
    )
    apply(csrf_client, upload(csrf_client, lines + "\n", "c.jsonl"))
    made = customers(app)
    assert made["t1"].name == "Tab One"
    assert made["j1"].address_country == "DE" and made["j1"].subject_keys == ["j1", "j1-b"]


def test_the_currency_of_a_subscribed_customer_is_locked(app, csrf_client):
    customer_id = make(app, name="Sub", key="sub", currency="EUR")
    with app.app_context():
        plan = plan_rules.create_plan(
            plan_rules.PlanInput(key="pro", name="Pro", currency="EUR", billing_cadence="P1M", amount="49")
        )
        plan_rules.subscribe(plan.key, customer_id)
    page = upload(csrf_client, "key,currency\nsub,USD\n")
    assert "cannot change while customer" in text(page)


def test_viewers_cannot_import(app, client_as):
    viewer = client_as("viewer")
    assert viewer.get(UPLOAD).status_code == 403


def test_a_file_over_the_limit_is_refused_before_it_is_read(app, csrf_client):
    app.config["IMPORT_MAX_BYTES"] = 1000
    response = post(
        csrf_client,
        UPLOAD,
        {"file": (io.BytesIO(b"key,name\n" + b"a,b\n" * 500), "big.csv")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 413
    assert "larger than the 1,000 bytes an import reads" in text(response)
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count()).select_from(Job)) == 0


def test_json_lines_of_the_export_round_trip(app, csrf_client):
    make(app, name="Zoë", key="zoe", subjects=["zoe", "zoe-2"], metadata={"tier": "gold"}, currency="EUR")
    body = csrf_client.get("/api/v1/customers/export?format=jsonl").data
    page = upload(csrf_client, body, "customers.jsonl")
    assert "1 row unchanged" in text(page) and "JSON Lines" in text(page)


def test_a_row_without_a_key_is_matched_by_its_first_subject_key(app, csrf_client):
    make(app, name="Old Name", key=None, subjects=["sub-1", "sub-2"])
    apply(csrf_client, upload(csrf_client, "subject_keys,name\nsub-1,New Name\n"))
    [customer] = customers(app).values()
    assert customer.name == "New Name" and customer.subject_keys == ["sub-1"]


def test_a_large_file_is_written_in_batches_and_resumes_where_it_stopped(app, csrf_client, monkeypatch):
    app.config["IMPORT_ATOMIC_ROWS"] = 2
    monkeypatch.setattr(importing, "BATCH_ROWS", 2)
    body = "key,name\n" + "".join(f"c{i},Customer {i}\n" for i in range(6))
    page = upload(csrf_client, body)
    assert "The file has more than 2 rows, so it is written in batches" in text(page)
    make(app, name="Meanwhile", key="m", subjects=["c4"])  # row 6 (c4) fails after the check
    stopped = apply(csrf_client, page)
    assert "Rows before row 6 were written: 1 row with errors now" in text(stopped)
    assert set(customers(app)) == {"m", "c0", "c1", "c2", "c3"}  # whole batches, up to the bad row's
    with app.app_context():
        lifecycle.delete("m")
    done = apply(csrf_client, page)
    assert "2 customers created" in text(done) and "4 rows unchanged" in text(done)

    calls = {"n": 0}
    real_write = importing.write

    def write_then_stop(batch):  # the worker is killed while writing the second batch
        calls["n"] += 1
        if calls["n"] == 2:
            raise RuntimeError("killed")
        real_write(batch)

    fresh = upload(csrf_client, body.replace("Customer", "Client"))
    monkeypatch.setattr(importing, "write", write_then_stop)
    failed = apply(csrf_client, fresh)
    assert "The job failed" in text(failed)
    assert customers(app)["c2"].name == "Customer 2"  # the first batch, whole; nothing of the second
    assert customers(app)["c1"].name == "Client 1"
    monkeypatch.setattr(importing, "write", real_write)
    done = apply(csrf_client, fresh)
    assert "4 customers updated" in text(done) and "2 rows unchanged" in text(done)
    assert {c.name for c in customers(app).values()} == {f"Client {i}" for i in range(6)}


def test_the_customer_page_says_a_change_came_from_an_import(app, csrf_client):
    apply(csrf_client, upload(csrf_client, "key,name\nacme,Acme\n"))
    page = text(csrf_client.get(f"/customers/{customers(app)['acme'].id}"))
    assert "test-admin in a batch" in page


def test_a_two_gigabyte_upload_is_refused_from_its_length(app, csrf_client):
    response = csrf_client.post(
        UPLOAD,
        data=b"",
        content_type="multipart/form-data; boundary=x",
        environ_overrides={"CONTENT_LENGTH": str(2 * 1024**3)},
    )
    assert response.status_code == 413
    assert "The file (2.0 GB) is larger than the 512.0 MB an import reads" in text(response)


def test_hostile_posts_are_answered_without_an_error(app, csrf_client):
    page = upload(csrf_client, "key,name\na,A\n", "evil\x00name\x07.csv")
    assert "Check of evilname.csv" in text(page)
    job = job_of(page)
    bad_target = post(csrf_client, f"/customers/import/{job}/mapping", {"column-0": "metadata.\x00", "column-1": "id"})
    assert bad_target.status_code == 422 and "is not a field a column can be imported as" in text(bad_target)
    refused = upload(csrf_client, b"")
    assert post(csrf_client, f"/customers/import/{job_of(refused)}/mapping").status_code == 409
    assert post(csrf_client, f"/customers/import/{job_of(refused)}/apply").status_code == 409
    assert csrf_client.get("/customers/import/not-a-job").status_code == 404
    assert post(csrf_client, UPLOAD).status_code == 422  # no file chosen


def test_imported_customers_are_like_any_other(app, csrf_client):
    """Written in bulk, they are found by search, key and subject, hold their keys, have a history."""
    apply(csrf_client, upload(csrf_client, CSV))
    assert "Globex" in text(csrf_client.get("/customers/?q=glob"))
    assert csrf_client.get("/api/v1/customers/acme").json["name"] == "Acme Inc"
    by_subject = csrf_client.get("/api/v1/customers?subject=globex-eu").json["items"]
    assert [c["key"] for c in by_subject] == ["globex"]
    taken = csrf_client.post("/api/v1/customers", json={"name": "Again", "key": "acme"})
    assert taken.status_code == 409 and "Acme Inc" in taken.json["detail"]
    history = text(csrf_client.get(f"/customers/{customers(app)['acme'].id}"))
    assert "Created" in history and "billing@acme.example" in history
