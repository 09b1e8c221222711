"""An operator imports customers from a file in a real browser: check, correct the columns, import,
with JavaScript on and off."""

import re

import pytest
from playwright.sync_api import expect

NO_JS = pytest.mark.browser_context_args(java_script_enabled=False)

FILE = {
    "name": "crm-export.csv",
    "mimeType": "text/csv",
    "buffer": "external_id;Company;E-mail;Stufe\r\nk-1;Eins GmbH;eins@example.com;gold\r\nk-2;Zwei AG;;silver\r\n".encode(
        "cp1252"
    ),
}


def check_file(page, console):
    page.goto(f"{console}/customers/")
    page.get_by_role("link", name="Import").click()
    expect(page).to_have_title(re.compile("Import customers"))
    page.get_by_label("File").set_input_files(FILE)
    page.get_by_role("button", name="Check the file").click()


def import_it(page):
    counts = page.get_by_role("list", name="What the file would do")
    expect(counts).to_contain_text("2 customers to create")
    expect(page.get_by_text("separated by semicolons")).to_be_visible()
    # "Stufe" is no field of ours, so the columns are open: import it as a metadata key of its own name.
    page.get_by_label("Stufe").select_option(label='Metadata key "Stufe"')
    page.get_by_role("button", name="Check again with these columns").click()
    expect(page.get_by_role("list", name="What the file would do")).to_contain_text("2 customers to create")
    page.get_by_role("button", name=re.compile("^Import: create 2 customers")).click()
    expect(page.get_by_role("list", name="What the file did")).to_contain_text("2 customers created")
    page.get_by_role("link", name="Customers", exact=True).last.click()
    expect(page.get_by_role("link", name="Eins GmbH")).to_be_visible()
    page.get_by_role("link", name="Eins GmbH").click()
    expect(page.get_by_role("region", name="Metadata", exact=True)).to_contain_text("gold")


def test_import_a_file_after_checking_it(console, page):
    check_file(page, console)
    import_it(page)


@NO_JS
def test_import_a_file_with_javascript_off(console, page):
    check_file(page, console)
    import_it(page)


def test_errors_are_listed_and_nothing_is_imported(console, page, make_customer):
    make_customer(name="Holder", key="k-2")
    page.goto(f"{console}/customers/import/")
    page.get_by_label("File").set_input_files(
        {"name": "c.csv", "mimeType": "text/csv", "buffer": b"key,name,email\nk-3,Drei,not-an-email\n"}
    )
    page.get_by_role("button", name="Check the file").click()
    expect(page.get_by_role("list", name="What the file would do")).to_contain_text("1 row with errors")
    errors = page.get_by_role("region", name="Rows with errors")
    expect(errors).to_contain_text("Primary email is not valid")
    expect(page.get_by_role("button", name=re.compile("^Import:"))).to_have_count(0)
    with page.expect_download() as download:
        page.get_by_role("link", name=re.compile("Download the 1 bad row")).click()
    assert "not-an-email" in download.value.path().read_text()
