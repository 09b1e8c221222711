"""Apps: the external systems that tax, invoice and collect payment (sandbox, Stripe, custom invoicing)."""

from flask import Flask


def init_app(app: Flask) -> None:
    """Make sure the Sandbox app and a default billing profile exist: once per process, at its first request.

    Not in create_app itself: create_app also runs for `flask db upgrade`, before the tables exist,
    and a worker may start before the migration has run. So the hook tries on every request until it
    succeeds once; after that it costs one flag check. Two workers running it at once are safe
    (see rules.ensure_defaults).
    """
    from sqlalchemy.exc import SQLAlchemyError

    from app.apps.rules import ensure_defaults
    from app.extensions import db

    done = False

    def ensure_defaults_once() -> None:
        nonlocal done
        if done:
            return
        try:
            ensure_defaults()
            db.session.commit()  # ends its read when there was nothing to make: the request starts afresh
            done = True
        except SQLAlchemyError:
            db.session.rollback()
            app.logger.warning("The default app and billing profile could not be made yet (is the database migrated?)")

    app.before_request(ensure_defaults_once)
