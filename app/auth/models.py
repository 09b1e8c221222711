"""Operators (people at the console), their console sessions, API tokens (programs), and failed logins
(for throttling)."""

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import UTCDateTime, db

# Each role can do everything the one before it can, and more (see app/auth/__init__.py).
ROLES = ("viewer", "editor", "admin")
_ROLE_CHECK = "role IN ('viewer', 'editor', 'admin')"


class Operator(db.Model):
    __tablename__ = "operators"

    id: Mapped[str] = mapped_column(String(26), primary_key=True)
    # Stored lower-case, so "Admin" and "admin" are one account.
    username: Mapped[str] = mapped_column(String(64), unique=True)
    # werkzeug.security's "method$salt$hash" text; never the password.
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # Operators are disabled rather than deleted, so the history keeps pointing at someone.
    disabled_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Optimistic locking, as for customers: an edit made from a stale copy fails.
    version: Mapped[int] = mapped_column(Integer, nullable=False)

    __mapper_args__ = {"version_id_col": version}
    __table_args__ = (CheckConstraint(_ROLE_CHECK, name="ck_operators_role"),)

    @property
    def is_active(self) -> bool:
        return self.disabled_at is None

    def __repr__(self) -> str:
        return f"<Operator {self.username} {self.role}>"


class ConsoleSession(db.Model):
    """An operator's login in one browser. Kept in the database, so that every worker on every
    machine agrees at once when it ends (logout, a password change, disabling, "sign out everywhere").

    The browser's cookie holds a random secret; this row holds its SHA-256, as for API tokens.
    """

    __tablename__ = "console_sessions"

    id: Mapped[str] = mapped_column(String(26), primary_key=True)  # names it in lists, never in cookies
    secret_hash: Mapped[str] = mapped_column(String(64), unique=True)
    operator_id: Mapped[str] = mapped_column(String(26), ForeignKey("operators.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime())
    user_agent: Mapped[str] = mapped_column(String(256))
    address: Mapped[str] = mapped_column(String(64))

    def __repr__(self) -> str:  # never the hash
        return f"<ConsoleSession {self.id} of {self.operator_id}>"


class ApiToken(db.Model):
    __tablename__ = "api_tokens"

    id: Mapped[str] = mapped_column(String(26), primary_key=True)
    name: Mapped[str] = mapped_column(String(256))
    role: Mapped[str] = mapped_column(String(16))
    # The token's first characters: not enough to use it, enough to recognise it in a list.
    prefix: Mapped[str] = mapped_column(String(16))
    # SHA-256 of the whole token: a token is long and random, so a slow hash would add nothing.
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    created_by: Mapped[str] = mapped_column(String(256))
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    __table_args__ = (CheckConstraint(_ROLE_CHECK, name="ck_api_tokens_role"),)

    def __repr__(self) -> str:  # never the hash
        return f"<ApiToken {self.prefix}… {self.name!r} {self.role}>"


class LoginAttempt(db.Model):
    """A failed login, counted per account and per address.

    Kept in the database, not in a process, because several workers on several machines must see
    the same count.
    """

    __tablename__ = "login_attempts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    scope: Mapped[str] = mapped_column(String(16))  # "account" or "address"
    value: Mapped[str] = mapped_column(String(256))
    at: Mapped[datetime] = mapped_column(UTCDateTime())

    __table_args__ = (Index("ix_login_attempts_scope_value_at", "scope", "value", "at"),)
