"""Console sessions live in the database (issue 16): they end on logout, on a password change, when
the operator is disabled, by "sign out everywhere", after being idle and at the end of their lifetime,
on every worker at once. Cookies are replayed as a thief would replay them."""

import re
from datetime import timedelta

from sqlalchemy import update

from app.auth import rules
from app.auth.models import ConsoleSession
from app.extensions import db, utcnow
from tests.auth.test_login import log_in
from tests.conftest import PASSWORD, AccountClient
from tests.helpers import text


def logged_in(app, username="test-admin") -> tuple[AccountClient, str]:
    """A browser logged in through the login form, and its session cookie (to replay later)."""
    browser = AccountClient(app, app.response_class, use_cookies=True)
    assert log_in(browser, username).status_code == 303
    return browser, browser.get_cookie(app.config["SESSION_COOKIE_NAME"]).value


def replay(app, cookie: str) -> int:
    """The status of a console page asked for with only this session cookie, from another machine."""
    thief = AccountClient(app, app.response_class, use_cookies=True)
    thief.set_cookie(app.config["SESSION_COOKIE_NAME"], cookie)
    return thief.get("/customers/").status_code


def csrf(client, url) -> str:
    return re.search(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"', client.get(url).text).group(1)


def test_a_cookie_no_longer_works_after_logout(app):
    browser, cookie = logged_in(app)
    assert replay(app, cookie) == 200
    assert browser.post("/logout", data={"csrf_token": csrf(browser, "/customers/")}).status_code == 303
    assert replay(app, cookie) == 302  # to the login page


def test_a_new_password_ends_the_operators_other_sessions(app, client):
    with app.app_context():
        dora_id = rules.create_operator("dora", "editor", PASSWORD).id
    _, doras_cookie = logged_in(app, "dora")
    edit = {"csrf_token": csrf(client, f"/operators/{dora_id}"), "role": "editor", "active": "y", "version": "1"}
    new_password = {"password": "another long password", "confirm": "another long password"}
    assert client.post(f"/operators/{dora_id}", data=edit | new_password).status_code == 303
    assert replay(app, doras_cookie) == 302


def test_changing_ones_own_password_keeps_this_browser_and_ends_the_others(app):
    here, here_cookie = logged_in(app)
    _, elsewhere_cookie = logged_in(app)
    operator_id = app.accounts["admin"].operator_id
    edit = {"csrf_token": csrf(here, f"/operators/{operator_id}"), "role": "admin", "active": "y", "version": "1"}
    new_password = {"password": "another long password", "confirm": "another long password"}
    assert here.post(f"/operators/{operator_id}", data=edit | new_password).status_code == 303
    assert replay(app, here_cookie) == 200 and replay(app, elsewhere_cookie) == 302


def test_disabling_an_operator_ends_their_sessions(app, client):
    with app.app_context():
        dora_id = rules.create_operator("dora", "editor", PASSWORD).id
        rules.update_operator(dora_id, active=False)
        rules.update_operator(dora_id, active=True)
    _, cookie = logged_in(app, "dora")
    edit = {"csrf_token": csrf(client, f"/operators/{dora_id}"), "role": "editor", "version": "3"}  # active unticked
    assert client.post(f"/operators/{dora_id}", data=edit).status_code == 303
    with app.app_context():
        assert rules.sessions_of(dora_id) == []
    assert replay(app, cookie) == 302


def test_an_admin_signs_an_operator_out_everywhere(app, client):
    with app.app_context():
        dora_id = rules.create_operator("dora", "editor", PASSWORD).id
    _, first = logged_in(app, "dora")
    _, second = logged_in(app, "dora")
    page = client.get(f"/operators/{dora_id}")
    assert "Sign out everywhere" in page.text and text(page).count("127.0.0.1") == 2
    response = client.post(f"/operators/{dora_id}/sign-out", data={"csrf_token": csrf(client, "/customers/")})
    assert response.status_code == 303
    assert "“dora” is signed out of 2 sessions." in text(client.get(response.headers["Location"]))
    assert replay(app, first) == 302 and replay(app, second) == 302


def test_operators_list_their_sessions_and_sign_out_the_others(app):
    here, here_cookie = logged_in(app)
    _, other_cookie = logged_in(app)
    page = here.get("/account/sessions")
    assert "this browser" in page.text and "Sign out all other sessions" in page.text
    response = here.post("/account/sessions", data={"csrf_token": csrf(here, "/account/sessions")})
    assert response.status_code == 303
    assert replay(app, here_cookie) == 200 and replay(app, other_cookie) == 302


def test_a_session_ends_when_idle_too_long_and_at_its_lifetime(app):
    _, idle_cookie = logged_in(app)
    _, old_cookie = logged_in(app)
    with app.app_context():
        ids = [s.id for s in rules.sessions_of(app.accounts["admin"].operator_id) if s.user_agent != "pytest"]
        idle = utcnow() - timedelta(minutes=app.config["SESSION_IDLE_MINUTES"] + 1)
        born = utcnow() - timedelta(hours=app.config["SESSION_LIFETIME_HOURS"] + 1)
        db.session.execute(update(ConsoleSession).where(ConsoleSession.id == ids[0]).values(last_seen_at=idle))
        db.session.execute(update(ConsoleSession).where(ConsoleSession.id == ids[1]).values(created_at=born))
        db.session.commit()
    assert replay(app, idle_cookie) == 302 and replay(app, old_cookie) == 302


def test_a_forged_or_old_style_cookie_logs_nobody_in(app):
    """A cookie from before sessions were stored (it named the operator) opens nothing now."""
    forged = app.session_interface.get_signing_serializer(app).dumps({"operator_id": app.accounts["admin"].operator_id})
    assert replay(app, forged) == 302
    assert replay(app, app.session_interface.get_signing_serializer(app).dumps({"sid": "guessed"})) == 302


def test_the_sessions_page_names_browsers_as_people_do(app):
    browser = AccountClient(app, app.response_class, use_cookies=True)
    browser.environ_base["HTTP_USER_AGENT"] = (
        "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
        "Version/17.0 Mobile/15E148 Safari/604.1"
    )
    assert log_in(browser).status_code == 303
    page = browser.get("/account/sessions")
    assert "Safari on iPhone" in text(page) and 'title="Mozilla/5.0 (iPhone;' in page.text
