"""API tokens and operators, from the console and the command line."""

import hashlib
import re

from sqlalchemy import select

from app.auth import rules as auth_rules
from app.auth.models import ApiToken, Operator
from app.extensions import db
from tests.conftest import PASSWORD, AccountClient


def form_token(client, url: str) -> str:
    return re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', client.get(url).text).group(1)


def bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


def test_the_cli_prints_a_token_once_and_stores_only_its_hash(app, runner, anonymous):
    result = runner.invoke(args=["tokens", "create", "invoicing job", "--role", "editor"])
    assert result.exit_code == 0, result.output
    secret = result.stdout.strip().splitlines()[-1]
    assert secret.startswith("bcc_") and len(secret) > 40
    with app.app_context():
        token = db.session.scalars(select(ApiToken).where(ApiToken.name == "invoicing job")).one()
        assert token.role == "editor" and token.last_used_at is None
        assert token.token_hash == hashlib.sha256(secret.encode()).hexdigest()
        assert secret not in repr(token.__dict__)
    response = anonymous.post("/api/v1/customers", json={"name": "Acme", "key": "acme"}, headers=bearer(secret))
    assert response.status_code == 201
    with app.app_context():
        assert db.session.get(ApiToken, token.id).last_used_at is not None


def test_the_cli_refuses_a_bad_role(runner):
    result = runner.invoke(args=["tokens", "create", "x", "--role", "root"])
    assert result.exit_code != 0 and "root" in result.output


def test_admins_create_list_and_revoke_tokens_in_the_console(app, client, anonymous):
    response = client.post(
        "/tokens/", data={"csrf_token": form_token(client, "/tokens/"), "name": "ci", "role": "viewer"}
    )
    assert response.status_code == 200
    secret = re.search(r'id="new-token" class="mono" value="(bcc_[^"]+)"', response.text).group(1)
    assert "cannot be shown again" in response.text
    assert response.headers["Cache-Control"] == "no-store"

    assert anonymous.get("/api/v1/customers", headers=bearer(secret)).status_code == 200
    assert (
        anonymous.post("/api/v1/customers", json={"name": "A", "key": "a"}, headers=bearer(secret)).status_code == 403
    )

    listing = client.get("/tokens/").text
    assert secret not in listing  # shown once only
    assert "ci" in listing and secret[:10] in listing and "viewer" in listing

    with app.app_context():
        token_id = db.session.scalars(select(ApiToken.id).where(ApiToken.name == "ci")).one()
    # Revoking asks first: the page says what it does, and a post that does not come from it revokes nothing.
    asked = client.get(f"/tokens/{token_id}/revoke").text
    assert "Revoke ci?" in asked and "This cannot be undone." in asked
    unconfirmed = client.post(f"/tokens/{token_id}/revoke", data={"csrf_token": form_token(client, "/tokens/")})
    assert unconfirmed.status_code == 200 and "Revoke ci?" in unconfirmed.text
    assert anonymous.get("/api/v1/customers", headers=bearer(secret)).status_code == 200
    confirmed = {"csrf_token": form_token(client, "/tokens/"), "confirmed": "1"}
    revoked = client.post(f"/tokens/{token_id}/revoke", data=confirmed)
    assert revoked.status_code == 303
    assert "revoked" in client.get("/tokens/").text
    assert anonymous.get("/api/v1/customers", headers=bearer(secret)).status_code == 401


def test_a_token_needs_a_name(client):
    response = client.post(
        "/tokens/", data={"csrf_token": form_token(client, "/tokens/"), "name": " ", "role": "viewer"}
    )
    assert response.status_code == 422
    # Beside the field (and linked from the summary), not only somewhere on the page.
    assert '<div id="name-error"><p class="field-error">Name is required.</p></div>' in response.text
    assert '<a href="#name">Name is required.</a>' in response.text


def test_the_cli_creates_operators_with_a_password_from_stdin_or_a_prompt(app, runner):
    result = runner.invoke(
        args=["operators", "create", "Alice", "--role", "editor", "--password-stdin"], input="a long password 1\n"
    )
    assert result.exit_code == 0, result.output
    prompted = runner.invoke(
        args=["operators", "create", "bob", "--role", "viewer"], input="another long one\nanother long one\n"
    )
    assert prompted.exit_code == 0, prompted.output
    short = runner.invoke(
        args=["operators", "create", "carol", "--role", "viewer", "--password-stdin"], input="short\n"
    )
    assert short.exit_code != 0 and "at least 12 characters" in short.output
    taken = runner.invoke(
        args=["operators", "create", "ALICE", "--role", "viewer", "--password-stdin"], input="a long password 1\n"
    )
    assert taken.exit_code != 0 and "taken" in taken.output
    with app.app_context():
        alice = db.session.scalars(select(Operator).where(Operator.username == "alice")).one()
        assert alice.role == "editor" and "a long password" not in alice.password_hash


def test_ensure_admin_makes_a_first_admin_only_when_there_is_no_operator(app, runner, anonymous):
    assert runner.invoke(args=["operators", "ensure-admin"]).output == ""  # the tests' admin exists
    with app.app_context():
        db.session.execute(Operator.__table__.delete())
        db.session.commit()
    result = runner.invoke(args=["operators", "ensure-admin"])
    password = re.search(r"password: (\S+)", result.output).group(1)
    assert "set-password admin" in result.output
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', anonymous.get("/login").text).group(1)
    response = anonymous.post("/login", data={"csrf_token": token, "username": "admin", "password": password})
    assert response.status_code == 303
    assert runner.invoke(args=["operators", "ensure-admin"]).output == ""


def test_set_password(runner, anonymous):
    result = runner.invoke(
        args=["operators", "set-password", "test-admin", "--password-stdin"], input="brand new password\n"
    )
    assert result.exit_code == 0, result.output
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', anonymous.get("/login").text).group(1)
    data = {"csrf_token": token, "username": "test-admin", "password": "brand new password"}
    assert anonymous.post("/login", data=data).status_code == 303


def test_admins_manage_operators_in_the_console(app, client):
    data = {"username": "dora", "role": "editor", "password": PASSWORD, "confirm": PASSWORD}
    response = client.post("/operators/new", data={"csrf_token": form_token(client, "/operators/new"), **data})
    assert response.status_code == 303
    assert "dora" in client.get("/operators/").text

    mismatch = {**data, "username": "eve", "confirm": "something else"}
    response = client.post("/operators/new", data={"csrf_token": form_token(client, "/operators/new"), **mismatch})
    assert response.status_code == 422 and "The two passwords are not the same." in response.text

    # The rule's refusal of a taken username stands beside that field, with the rest kept as typed.
    response = client.post("/operators/new", data={"csrf_token": form_token(client, "/operators/new"), **data})
    assert response.status_code == 422
    assert '<div id="username-error"><p class="field-error">The username &#34;dora&#34; is taken.</p></div>' in (
        response.text
    )

    with app.app_context():
        dora = db.session.scalars(select(Operator).where(Operator.username == "dora")).one()
    edit = {"csrf_token": form_token(client, f"/operators/{dora.id}"), "role": "viewer", "active": "y", "version": "1"}
    assert client.post(f"/operators/{dora.id}", data=edit).status_code == 303
    dora_client = AccountClient(app, use_cookies=True)
    with app.app_context():
        secret = auth_rules.start_session(dora.id, "pytest", "127.0.0.1")
    with dora_client.session_transaction() as session:
        session["sid"] = secret
    assert dora_client.get("/customers/").status_code == 200


def test_the_last_admin_cannot_be_demoted_or_disabled(app, client):
    admin_id = client.account.operator_id
    token = form_token(client, f"/operators/{admin_id}")
    demote = {"csrf_token": token, "role": "viewer", "active": "y", "version": "1"}
    response = client.post(f"/operators/{admin_id}", data=demote)
    assert response.status_code == 422 and "last active admin" in response.text
    disable = {"csrf_token": token, "role": "admin", "version": "1"}
    assert client.post(f"/operators/{admin_id}", data=disable).status_code == 422
