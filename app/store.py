"""How every area's rules read one row by id and commit a unit of work through the session."""

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TypeVar

from sqlalchemy import text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.exc import StaleDataError

from app.extensions import db
from app.history import latest_change
from app.ids import is_id
from app.problems import NotFound, Problem, StaleEdit

T = TypeVar("T")
# Set in the session while a unit of work is open (see unit_of_work).
_OPEN_UNIT = "app.store.open_unit"


def get_by_id(model: type[T], row_id: str, noun: str) -> T:
    """The row of `model` with this id. Raises NotFound, naming the `noun`, for anything else
    (a value that is not an id of ours is not looked up at all)."""
    row = db.session.get(model, row_id) if is_id(row_id) else None
    if row is None:
        raise NotFound(f'No {noun} has the id "{row_id[:64]}".')
    return row


@contextmanager
def unit_of_work(
    stale: str | Callable[[], Problem] | None = None, conflict: Callable[[], Problem] | None = None
) -> Iterator[None]:
    """Commit the writes made in the block as one transaction, or roll them all back.

    A Problem raised in the block rolls back and goes on. The database's refusals, at a flush in
    the block or at the commit, roll back and become problems: StaleDataError (an UPDATE or DELETE
    carried a version that is no longer the row's) becomes StaleEdit(`stale`), or what `stale()`
    returns; IntegrityError (a unique index, a foreign key) becomes what `conflict()` returns. Both
    callables run after the rollback, so they can read what won. Without one, that error is raised
    as it is, for a caller that retries or ignores it.

    Units nest: inside another unit (an operation that spans areas), a unit only flushes, so that
    its refusals still become its own problems, and the outermost unit commits it all or nothing.
    """
    outermost = not db.session.info.get(_OPEN_UNIT)
    db.session.info[_OPEN_UNIT] = True
    try:
        yield
        if outermost:
            db.session.commit()
        else:
            db.session.flush()
    except Problem:
        db.session.rollback()
        raise
    except StaleDataError:
        db.session.rollback()
        if stale is None:
            raise
        raise (StaleEdit(stale) if isinstance(stale, str) else stale()) from None
    except IntegrityError:
        db.session.rollback()
        if conflict is None:
            raise
        raise conflict() from None
    finally:
        if outermost:
            db.session.info.pop(_OPEN_UNIT, None)


def queue_behind(lock_key: int) -> None:
    """Make the transactions that take the same `lock_key` run one after another from here on, so
    that a check they make and the write it decides see each other (check-then-write is safe).

    On PostgreSQL this is a transaction-level advisory lock, released at commit or rollback. SQLite
    runs one writer at a time anyway: there, a transaction queues at its first write, so its checks
    must come after that write (flush first, then check). Each caller names its own key.
    """
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": lock_key})


def refuse_stale(what: str, expected: int | None, current: int, history_of: tuple[str, str] | None = None) -> None:
    """Raise StaleEdit when the editor's copy (`expected`, the version it was read at) is not the
    current version; None expects nothing (the API without If-Match: the last write wins).

    This is the early, readable refusal. Under concurrency the database decides: the UPDATE or
    DELETE carries the version in its WHERE (version_id_col), and a rule turns its refusal into
    StaleEdit too. `history_of` (entity type, id) adds who made the latest recorded change.
    """
    if expected is None or expected == current:
        return
    latest = latest_change(*history_of) if history_of else None
    by = f"; its latest recorded change was by {latest[0]} at {latest[1]:%Y-%m-%d %H:%M:%S} UTC" if latest else ""
    raise StaleEdit(
        f"{what} was changed by someone else since your copy was read: your copy is version {expected}, "
        f"it is now version {current}{by}. Read it again and redo your change."
    )
