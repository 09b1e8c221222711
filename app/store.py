"""How every area's rules read one row by id and commit a unit of work through the session."""

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TypeVar

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.exc import StaleDataError

from app.extensions import db
from app.ids import is_id
from app.problems import NotFound, Problem, StaleEdit

T = TypeVar("T")


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
    """
    try:
        yield
        db.session.commit()
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
