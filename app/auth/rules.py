"""The rules of operators, API tokens and logging in, for the console, the API and the command line.

Plain functions over the session, raising problems from `app.problems`: `Invalid` (400, each bad
field named), `Conflict` (409, a username taken), `StaleEdit` (409, an operator changed since its
form was read), `NotFound` (404), or `LoginRefused` (401 wrong name or password, 429 locked after
repeated failures). Nothing here knows about requests or forms: the caller passes the address a
login comes from.
"""

import hashlib
import math
import re
import secrets
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import Row, and_, bindparam, delete, func, or_, select, update
from werkzeug.security import check_password_hash, generate_password_hash

from app import history
from app.auth.models import ROLES, ApiToken, ConsoleSession, LoginAttempt, Operator
from app.common import NAME_MAX
from app.extensions import db, utcnow
from app.ids import new_id
from app.problems import Conflict, FieldError, Invalid, Problem
from app.store import get_by_id, queue_behind, refuse_stale, unit_of_work
from app.text_rules import check_text

USERNAME = re.compile(r"[a-z0-9][a-z0-9._@-]{0,63}")
PASSWORD_MIN = 12
PASSWORD_MAX = 1024
TOKEN_PREFIX = "bcc_"  # "billing customers console": lets secret scanners recognise a leaked token
# Writing last_used_at on every call would turn each API read into a write; a minute is precise enough.
LAST_USED_PRECISION = timedelta(minutes=1)


def has_role(role: str | None, needed: str) -> bool:
    """Whether `role` can do what `needed` can (admin ⊃ editor ⊃ viewer)."""
    return role in ROLES and ROLES.index(role) >= ROLES.index(needed)


def _check_role(errors: list[FieldError], role: str | None) -> None:
    if role not in ROLES:
        errors.append(FieldError("role", "invalid", f"Role must be one of {', '.join(ROLES)}."))


def _check_password(errors: list[FieldError], password: str | None) -> None:
    if not password or len(password) < PASSWORD_MIN:
        errors.append(FieldError("password", "too_short", f"The password needs at least {PASSWORD_MIN} characters."))
    elif len(password) > PASSWORD_MAX:
        errors.append(FieldError("password", "too_long", f"The password can have at most {PASSWORD_MAX} characters."))


def _hash(password: str) -> str:
    return generate_password_hash(password, method=current_app.config["PASSWORD_HASH_METHOD"])


# ---------------------------------------------------------------------------------------------
# Operators


def operator_snapshot(operator: Operator) -> dict:
    """For the history: never the password hash (a password change shows as "changed")."""
    return {"username": operator.username, "role": operator.role, "active": operator.is_active}


def create_operator(username: str, role: str, password: str) -> Operator:
    """Create an operator. Raises Invalid, or Conflict when the username is taken."""
    username = (username or "").strip().lower()
    errors: list[FieldError] = []
    if not USERNAME.fullmatch(username):
        errors.append(
            FieldError(
                "username",
                "invalid",
                "A username has 1–64 letters, digits, dots, dashes, underscores or @, starting with a letter or digit.",
            )
        )
    _check_role(errors, role)
    _check_password(errors, password)
    if errors:
        raise Invalid(errors)
    now = utcnow()
    operator = Operator(
        id=new_id(), username=username, password_hash=_hash(password), role=role, created_at=now, updated_at=now
    )
    taken = FieldError("username", "conflict", f'The username "{username}" is taken.')
    with unit_of_work(conflict=lambda: Conflict([taken])):
        db.session.add(operator)
        history.record("operator", operator.id, "create", {}, operator_snapshot(operator) | {"password": "(set)"})
    return operator


def _other_active_admins(operator_id: str) -> int:
    return db.session.scalar(
        select(func.count())
        .select_from(Operator)
        .where(Operator.role == "admin", Operator.disabled_at.is_(None), Operator.id != operator_id)
    )


# Changes that may take away an admin queue behind one another (store.queue_behind): two admins
# demoting each other at once must not both see the other still an admin.
_ADMINS_LOCK_KEY = 0x61646D6E  # "admn"


def update_operator(
    operator_id: str,
    role: str | None = None,
    active: bool | None = None,
    password: str | None = None,
    expected_version: int | None = None,
    keep_session: str | None = None,
) -> Operator:
    """Change an operator's role, whether it may log in, or its password (None leaves each as it is).

    A new password ends the operator's console sessions but `keep_session` (the session that made
    the change, when operators change their own); disabling ends them all.

    Raises NotFound, StaleEdit (not at `expected_version`, the version the editor read), or Invalid
    for a bad role or password, or when the change would leave no active admin (nobody could
    manage operators any more).
    """
    operator = get_operator(operator_id)
    what = f"Operator {operator.username}"
    refuse_stale(what, expected_version, operator.version, ("operator", operator.id))
    errors: list[FieldError] = []
    if role is not None:
        _check_role(errors, role)
    if password is not None:
        _check_password(errors, password)
    was_admin = operator.role == "admin" and operator.is_active
    stays_admin = (role or operator.role) == "admin" and (operator.is_active if active is None else active)
    if errors:
        raise Invalid(errors)
    before = operator_snapshot(operator)
    now = utcnow()
    if role is not None:
        operator.role = role
    if active is not None and active != operator.is_active:
        operator.disabled_at = None if active else now
    if password is not None:
        operator.password_hash = _hash(password)
    operator.updated_at = now
    after = operator_snapshot(operator)
    if password is not None:
        before, after = before | {"password": "(old)"}, after | {"password": "(changed)"}
    # The UPDATE has the version read in its WHERE.
    with unit_of_work(stale=f"{what} was changed by someone else meanwhile; read it again and retry."):
        if was_admin and not stays_admin:
            # Queued first, written next (SQLite queues there), then counted: the count sees any
            # other admin's demotion that committed before ours.
            queue_behind(_ADMINS_LOCK_KEY)
            db.session.flush()
            if not _other_active_admins(operator.id):
                message = "This is the last active admin: make someone else admin first."
                raise Invalid([FieldError("role", "last_admin", message)])
        history.record("operator", operator.id, "update", before, after)
        if not operator.is_active:
            end_sessions(operator.id)
        elif password is not None:
            end_sessions(operator.id, keep=keep_session)
    return operator


def get_operator(operator_id: str) -> Operator:
    return get_by_id(Operator, operator_id, "operator")


def find_operator(username: str) -> Operator | None:
    return db.session.scalars(select(Operator).where(Operator.username == (username or "").strip().lower())).first()


# The gate runs these before every page and API call. They read plain rows, not entities: loading
# an entity costs about twice as much, and the gate needs only who the caller is and their role.
_LIVE_TOKEN = select(ApiToken.id, ApiToken.name, ApiToken.role, ApiToken.last_used_at).where(
    ApiToken.token_hash == bindparam("hash"), ApiToken.revoked_at.is_(None)
)


# ---------------------------------------------------------------------------------------------
# Console sessions

# How often a session's "last seen" is written: each request reads it, few need to write it.
LAST_SEEN_PRECISION = timedelta(minutes=1)
_SESSION = (
    select(
        ConsoleSession.id.label("session_id"),
        ConsoleSession.last_seen_at,
        Operator.id,
        Operator.username,
        Operator.role,
    )
    .join(Operator, Operator.id == ConsoleSession.operator_id)
    .where(
        ConsoleSession.secret_hash == bindparam("hash"),
        ConsoleSession.last_seen_at > bindparam("idle_since"),
        ConsoleSession.created_at > bindparam("born_since"),
        Operator.disabled_at.is_(None),
    )
)


def start_session(operator_id: str, user_agent: str | None, address: str | None) -> str:
    """A new console session for the operator; returns its secret, for the browser's cookie only."""
    secret = secrets.token_urlsafe(32)
    now = utcnow()
    with unit_of_work():
        db.session.add(
            ConsoleSession(
                id=new_id(),
                secret_hash=_token_hash(secret),
                operator_id=operator_id,
                created_at=now,
                last_seen_at=now,
                user_agent=(user_agent or "")[:256],
                address=(address or "")[:64],
            )
        )
    return secret


def operator_of_session(secret: str | None) -> Row | None:
    """(session_id, last_seen_at, id, username, role) of the live session with this secret and its
    active operator; None when there is none, or it has been idle or alive too long (config
    SESSION_IDLE_MINUTES, SESSION_LIFETIME_HOURS). Notes the session's use."""
    if not secret or len(secret) > 256:
        return None
    config, now = current_app.config, utcnow()
    found = db.session.execute(
        _SESSION,
        {
            "hash": _token_hash(secret),
            "idle_since": now - timedelta(minutes=config["SESSION_IDLE_MINUTES"]),
            "born_since": now - timedelta(hours=config["SESSION_LIFETIME_HOURS"]),
        },
    ).first()
    if found is not None and now - found.last_seen_at > LAST_SEEN_PRECISION:
        with unit_of_work():
            db.session.execute(
                update(ConsoleSession).where(ConsoleSession.id == found.session_id).values(last_seen_at=now)
            )
    return found


def end_session(secret: str | None) -> None:
    """Log out: the session with this secret ends (nothing happens for an unknown one)."""
    if secret and len(secret) <= 256:
        with unit_of_work():
            db.session.execute(delete(ConsoleSession).where(ConsoleSession.secret_hash == _token_hash(secret)))


def end_sessions(operator_id: str, keep: str | None = None) -> int:
    """End every console session of the operator but `keep` (a session id); how many ended."""
    with unit_of_work():
        ended = db.session.execute(
            delete(ConsoleSession).where(ConsoleSession.operator_id == operator_id, ConsoleSession.id != (keep or ""))
        ).rowcount
    return ended


def sessions_of(operator_id: str) -> list[ConsoleSession]:
    """The operator's console sessions, the most recently used first (ended ones are gone)."""
    return list(
        db.session.scalars(
            select(ConsoleSession)
            .where(ConsoleSession.operator_id == operator_id)
            .order_by(ConsoleSession.last_seen_at.desc(), ConsoleSession.id)
        )
    )


def list_operators() -> list[Operator]:
    return list(db.session.scalars(select(Operator).order_by(Operator.username)))


def has_operators() -> bool:
    return db.session.scalars(select(Operator.id).limit(1)).first() is not None


# ---------------------------------------------------------------------------------------------
# Logging in, with throttling


class LoginRefused(Problem):
    """401 for a wrong username or password, 429 while an account or address is locked."""

    def __init__(self, detail: str, status: int = 401):
        super().__init__(detail, [], status)


def _lock_left(
    scope: str, value: str, limit: int, window: timedelta, now: datetime, besides: list[int]
) -> timedelta | None:
    """How long `value` stays locked: `limit` failures within `window` lock it until the oldest of
    them is `window` old. None when it is not locked. The attempts `besides` (ids) are not counted."""
    recent = db.session.scalars(
        select(LoginAttempt.at)
        .where(LoginAttempt.scope == scope, LoginAttempt.value == value, LoginAttempt.at > now - window)
        .where(LoginAttempt.id.notin_(besides))
        .order_by(LoginAttempt.at.desc())
        .limit(limit)
    ).all()
    if len(recent) < limit:
        return None
    return recent[-1] + window - now


# Logins queue behind one another while they count and record an attempt (store.queue_behind).
_LOGINS_LOCK_KEY = 0x6C6F676E  # "logn"


def _minutes(left: timedelta) -> str:
    minutes = max(1, math.ceil(left.total_seconds() / 60))
    return f"{minutes} minute{'s' if minutes != 1 else ''}"


# A hash of nothing anyone knows: checking unknown usernames against it takes as long as checking a
# real one, so response times do not tell which usernames exist.
_unknown_user_hash: dict[str, str] = {}


def log_in(
    username: str, password: str, address: str, known_browser: bool = False, now: datetime | None = None
) -> Operator:
    """The operator with this username and password. Raises LoginRefused.

    Failures are counted per account and per address in the database (every worker sees them);
    LOGIN_MAX_FAILURES_PER_ACCOUNT (or _PER_ADDRESS) failures within LOGIN_LOCK_MINUTES lock that
    account (or address) until the oldest of them is that old. While locked, even the right password
    is refused, and attempts are not counted (so waiting is enough to get in).

    Each attempt is counted before its password is checked, one attempt at a time: of a burst of
    tries, exactly as many as the limit allows are checked. A `known_browser` (one this account
    logged in from before) is not held by its address's lock, nor counted in it: someone guessing
    from the same address (an office behind one NAT, a proxy) cannot lock everyone out.
    """
    config = current_app.config
    now = now or utcnow()
    window = timedelta(minutes=config["LOGIN_LOCK_MINUTES"])
    # Control characters cannot be in a username, and PostgreSQL refuses NUL: count them as "?".
    username = "".join(ch if ch.isprintable() else "?" for ch in (username or "").strip().lower()[:256])
    address = (address or "unknown")[:256]
    with unit_of_work():
        queue_behind(_LOGINS_LOCK_KEY)
        attempt = [LoginAttempt(scope="account", value=username, at=now)]
        if not known_browser:
            attempt.append(LoginAttempt(scope="address", value=address, at=now))
        db.session.add_all(attempt)
        db.session.flush()  # SQLite queues here: the counts below see every attempt committed before
        mine = [a.id for a in attempt]
        account_left = _lock_left("account", username, config["LOGIN_MAX_FAILURES_PER_ACCOUNT"], window, now, mine)
        if account_left:  # refused uncounted: the unit of work rolls the attempt back
            raise LoginRefused(
                f"Too many failed logins for this account: it is locked for {_minutes(account_left)}. "
                "Try again later, or ask an admin to set a new password.",
                429,
            )
        if not known_browser:
            limit = config["LOGIN_MAX_FAILURES_PER_ADDRESS"]
            address_left = _lock_left("address", address, limit, window, now, mine)
            if address_left:
                raise LoginRefused(
                    f"Too many failed logins from your address: logging in is locked for {_minutes(address_left)}.",
                    429,
                )
        # Failures older than the window no longer count: clearing them keeps the table small.
        db.session.execute(delete(LoginAttempt).where(LoginAttempt.at <= now - window))

    operator = find_operator(username)
    method = config["PASSWORD_HASH_METHOD"]
    if method not in _unknown_user_hash:
        _unknown_user_hash[method] = generate_password_hash(secrets.token_hex(16), method=method)
    stored = operator.password_hash if operator else _unknown_user_hash[method]
    if check_password_hash(stored, password or "") and operator is not None and operator.is_active:
        with unit_of_work():  # a success is no failure: the account starts afresh, and this try is not counted
            db.session.execute(
                delete(LoginAttempt).where(
                    or_(
                        and_(LoginAttempt.scope == "account", LoginAttempt.value == username),
                        LoginAttempt.id.in_(mine),
                    )
                )
            )
        return operator
    raise LoginRefused("The username or password is not right.")


# ---------------------------------------------------------------------------------------------
# API tokens


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def token_snapshot(token: ApiToken) -> dict:
    return {"name": token.name, "role": token.role, "prefix": token.prefix, "revoked": token.revoked_at is not None}


def create_token(name: str, role: str) -> tuple[ApiToken, str]:
    """Create a token; returns it with its secret, which is not stored and cannot be shown again.

    Raises Invalid.
    """
    name = (name or "").strip()
    errors: list[FieldError] = []
    check_text(errors, "name", name, NAME_MAX, label="Name", required=True)
    _check_role(errors, role)
    if errors:
        raise Invalid(errors)
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(
        id=new_id(),
        name=name,
        role=role,
        prefix=secret[: len(TOKEN_PREFIX) + 6],
        token_hash=_token_hash(secret),
        created_at=utcnow(),
        created_by=history.current_actor().name,
    )
    with unit_of_work():
        db.session.add(token)
        history.record("api_token", token.id, "create", {}, token_snapshot(token))
    return token, secret


def revoke_token(token_id: str) -> ApiToken:
    """Revoke a token at once. Raises NotFound; revoking twice changes nothing."""
    token = get_by_id(ApiToken, token_id, "API token")
    if token.revoked_at is None:
        before = token_snapshot(token)
        with unit_of_work():
            token.revoked_at = utcnow()
            history.record("api_token", token.id, "update", before, token_snapshot(token))
    return token


def token_for(secret: str | None) -> Row | None:
    """(id, name, role, last_used_at) of the live token with this secret, its last use noted; None
    for a wrong or revoked one."""
    if not secret or not secret.startswith(TOKEN_PREFIX) or len(secret) > 256:
        return None
    token = db.session.execute(_LIVE_TOKEN, {"hash": _token_hash(secret)}).first()
    if token is not None:
        now = utcnow()
        if token.last_used_at is None or now - token.last_used_at > LAST_USED_PRECISION:
            with unit_of_work():
                db.session.execute(update(ApiToken).where(ApiToken.id == token.id).values(last_used_at=now))
    return token


def list_tokens() -> list[ApiToken]:
    """Live tokens first, newest first."""
    return list(
        db.session.scalars(select(ApiToken).order_by(ApiToken.revoked_at.isnot(None), ApiToken.created_at.desc()))
    )
