"""`flask --app app operators …` and `flask --app app tokens …`: accounts from the command line.

Changes made here are recorded in the history as made by "system".
"""

import secrets
import sys

import click
from flask.cli import AppGroup

from app.auth import rules
from app.auth.models import ROLES
from app.problems import Problem

role_option = click.option("--role", type=click.Choice(ROLES), required=True, help="What it may do.")


def _fail(problem: Problem) -> None:
    raise click.ClickException(problem.detail)


def _read_password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    return click.prompt("Password", hide_input=True, confirmation_prompt=True)


@click.group(cls=AppGroup)
def operators() -> None:
    """Manage the operators who log in to the console."""


@operators.command("create")
@click.argument("username")
@role_option
@click.option("--password-stdin", is_flag=True, help="Read the password from the first line of standard input.")
def create_operator(username: str, role: str, password_stdin: bool) -> None:
    """Create an operator; the password is prompted for (or read from stdin)."""
    try:
        operator = rules.create_operator(username, role, _read_password(password_stdin))
    except Problem as problem:
        _fail(problem)
    click.echo(f"Operator {operator.username} ({operator.role}) created.")


@operators.command("set-password")
@click.argument("username")
@click.option("--password-stdin", is_flag=True, help="Read the password from the first line of standard input.")
def set_password(username: str, password_stdin: bool) -> None:
    """Set an operator's password (and let it log in again if it was disabled)."""
    operator = rules.find_operator(username)
    if operator is None:
        raise click.ClickException(f"No operator is called {username}.")
    try:
        rules.update_operator(operator.id, password=_read_password(password_stdin), active=True)
    except Problem as problem:
        _fail(problem)
    click.echo(f"The password of {operator.username} is set.")


@operators.command("ensure-admin")
def ensure_admin() -> None:
    """When there is no operator at all, create `admin` with a random password and print it once."""
    if rules.has_operators():
        return
    password = secrets.token_urlsafe(15)
    rules.create_operator("admin", "admin", password)
    click.echo(
        "\nThe first operator was created. Log in with\n"
        f"    username: admin\n    password: {password}\n"
        "This password is shown only now. Change it with\n"
        "    .venv/bin/flask --app app operators set-password admin\n"
    )


@click.group(cls=AppGroup)
def tokens() -> None:
    """Manage the tokens that programs use to call the API."""


@tokens.command("create")
@click.argument("name")
@role_option
def create_token(name: str, role: str) -> None:
    """Create an API token and print it; it cannot be shown again."""
    try:
        token, secret = rules.create_token(name, role)
    except Problem as problem:
        _fail(problem)
    click.echo(f"Token {token.name} ({token.role}), shown only now:", err=True)
    click.echo(secret)
