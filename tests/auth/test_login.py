"""Logging in and out, the way back to where the operator was going, and throttling of failed logins."""

import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select, update

from app import create_app
from app.auth.models import LoginAttempt
from app.extensions import db, utcnow
from tests.conftest import PASSWORD, AccountClient


def login_page_token(client) -> str:
    page = client.get("/login")
    assert page.status_code == 200
    return re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page.text).group(1)


def log_in(client, username="test-admin", password=PASSWORD, next_url=None):
    data = {"csrf_token": login_page_token(client), "username": username, "password": password}
    if next_url is not None:
        data["next"] = next_url
    return client.post("/login", data=data)


def visible(response) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", response.text))


def failures(app, scope: str) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(LoginAttempt).where(LoginAttempt.scope == scope))


def test_log_in_then_back_to_where_the_operator_was_going(anonymous):
    first = anonymous.get("/customers/?q=acme")
    assert first.status_code == 302
    login_url = first.headers["Location"]
    page = anonymous.get(login_url)
    assert 'name="next" value="/customers/?q=acme"' in page.text
    response = log_in(anonymous, next_url="/customers/?q=acme")
    assert response.status_code == 303 and response.headers["Location"] == "/customers/?q=acme"
    page = anonymous.get("/customers/")
    assert page.status_code == 200 and "test-admin" in page.text and "Log out" in page.text


def test_usernames_are_not_case_sensitive(anonymous):
    assert log_in(anonymous, username=" Test-ADMIN ").status_code == 303


@pytest.mark.parametrize(
    "target", ["https://evil.example/", "//evil.example/x", "/\\evil.example", "javascript:alert(1)"]
)
def test_next_never_leads_to_another_site(anonymous, target):
    response = log_in(anonymous, next_url=target)
    assert response.status_code == 303 and response.headers["Location"] == "/"


def test_a_wrong_password_is_refused_and_said_so(anonymous):
    response = log_in(anonymous, password="wrong password")
    assert response.status_code == 401
    assert "The username or password is not right." in visible(response)
    assert anonymous.get("/customers/").status_code == 302
    unknown = log_in(anonymous, username="nobody")
    assert unknown.status_code == 401 and "The username or password is not right." in visible(unknown)


def test_a_disabled_operator_cannot_log_in(app, anonymous, client_as):
    from app.auth import rules

    editor = client_as("editor").account
    with app.app_context():
        rules.update_operator(editor.operator_id, active=False)
    assert log_in(anonymous, username=editor.username).status_code == 401


def test_log_out(client):
    page = client.get("/customers/")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
    response = client.post("/logout", data={"csrf_token": token})
    assert response.status_code == 303 and response.headers["Location"] == "/login"
    assert "You are logged out." in visible(client.get("/login"))
    assert client.get("/customers/").status_code == 302


def test_repeated_failures_lock_the_account_and_the_page_says_so(app, anonymous):
    for _ in range(app.config["LOGIN_MAX_FAILURES_PER_ACCOUNT"]):
        assert log_in(anonymous, password="guess").status_code == 401
    assert failures(app, "account") == 5

    locked = log_in(anonymous)  # even the right password, while locked
    assert locked.status_code == 429
    assert "Too many failed logins for this account: it is locked for 15 minutes." in visible(locked)
    assert failures(app, "account") == 5  # attempts while locked are not counted

    # Another worker, another process: the lock is in the database, so it holds there too.
    other_worker = AccountClient(create_app(dict(app.config)), use_cookies=True)
    assert log_in(other_worker).status_code == 429
    # Other accounts are not locked by it.
    assert log_in(anonymous, username="test-viewer").status_code == 401


def test_the_lock_lifts_after_a_while_and_a_login_clears_the_count(app, anonymous):
    for _ in range(5):
        log_in(anonymous, password="guess")
    assert log_in(anonymous).status_code == 429
    with app.app_context():
        db.session.execute(update(LoginAttempt).values(at=utcnow() - timedelta(minutes=16)))
        db.session.commit()
    assert log_in(anonymous).status_code == 303
    assert failures(app, "account") == 0


def test_repeated_failures_from_one_address_lock_it(app, anonymous):
    app.config["LOGIN_MAX_FAILURES_PER_ADDRESS"] = 4
    for i in range(4):
        assert log_in(anonymous, username=f"guess-{i}", password="guess").status_code == 401
    locked = log_in(anonymous)
    assert locked.status_code == 429
    assert "Too many failed logins from your address" in visible(locked)

    elsewhere = AccountClient(app, use_cookies=True)
    elsewhere.environ_base["REMOTE_ADDR"] = "192.0.2.7"
    assert log_in(elsewhere).status_code == 303


def test_a_browser_that_logged_in_before_is_not_held_by_its_addresss_lock(app, anonymous, client_as):
    """Someone guessing behind the office's one address locks the address, not the admin whose browser
    has logged in here before (a signed cookie remembers it); a new browser there stays locked."""
    assert log_in(anonymous).status_code == 303  # the admin's browser, some day before
    anonymous.post(
        "/logout",
        data={
            "csrf_token": re.search(r'name="csrf_token" value="([^"]+)"', anonymous.get("/customers/").text).group(1)
        },
    )
    app.config["LOGIN_MAX_FAILURES_PER_ADDRESS"] = 4
    guesser = AccountClient(app, use_cookies=True)
    for i in range(4):
        assert log_in(guesser, username=f"guess-{i}", password="guess").status_code == 401
    assert log_in(guesser).status_code == 429
    assert log_in(AccountClient(app, use_cookies=True)).status_code == 429  # a new browser at the address
    assert log_in(anonymous).status_code == 303  # the known one
    assert log_in(anonymous, username="test-viewer").status_code == 429  # known for its own account only


def test_a_forged_known_browser_cookie_counts_for_nothing(app, anonymous):
    app.config["LOGIN_MAX_FAILURES_PER_ADDRESS"] = 1
    assert log_in(anonymous, username="guess", password="guess").status_code == 401
    anonymous.set_cookie("known_logins", '["test-admin"]')
    assert log_in(anonymous).status_code == 429


def test_the_login_page_is_a_real_page(anonymous):
    page = anonymous.get("/login")
    assert "<title>Log in · Billing console</title>" in page.text
    assert 'autocomplete="current-password"' in page.text
    assert "Customers</a>" not in page.text  # no navigation before logging in


def test_control_characters_in_a_username_are_just_a_failure(anonymous):
    assert log_in(anonymous, username="admin\x00").status_code == 401
