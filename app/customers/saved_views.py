"""Saved views of the customers list: a name for its search, filters, sort and columns.

A view is its owner's, or shared with everyone; pinned views show above the list. An admin may make
one shared view the default: the list opens on it when it is opened without arguments. The view
keeps the list's URL arguments as they were, so a view is also just a link.
"""

from sqlalchemy import or_, select, update
from ulid import ULID

from app.customers.models import SavedView
from app.extensions import db, utcnow
from app.problems import Conflict, FieldError, Invalid, NotFound
from app.store import get_by_id, unit_of_work
from app.text_rules import check_text

NAME_MAX = 100


def visible(operator_id: str) -> list[SavedView]:
    """The views an operator may open: theirs and the shared ones, pinned first, then by name."""
    return list(
        db.session.scalars(
            select(SavedView)
            .where(or_(SavedView.owner_id == operator_id, SavedView.shared))
            .order_by(SavedView.pinned.desc(), SavedView.name, SavedView.id)
        )
    )


def default() -> SavedView | None:
    return db.session.scalars(select(SavedView).where(SavedView.is_default)).first()


def _checked_name(name: str) -> str:
    name = (name or "").strip()
    errors: list[FieldError] = []
    check_text(errors, "name", name, NAME_MAX, label="Name", required=True)
    if errors:
        raise Invalid(errors)
    return name


def save(operator_id: str, operator_name: str, name: str, query: str, shared: bool, pinned: bool) -> SavedView:
    """Save the list as it is (`query`, its URL arguments) under a name of the operator's. Raises
    Invalid (no name) or Conflict (they have a view of that name: the database decides)."""
    name = _checked_name(name)
    now = utcnow()
    view = SavedView(
        id=str(ULID()),
        name=name,
        owner_id=operator_id,
        owner_name=operator_name,
        shared=shared,
        pinned=pinned,
        is_default=False,
        query=query,
        created_at=now,
        updated_at=now,
    )
    taken = FieldError("name", "conflict", f"You already have a view named “{name}”: choose another name.")
    with unit_of_work(conflict=lambda: Conflict([taken])):
        db.session.add(view)
    return view


def _own(view_id: str, operator_id: str, is_admin: bool) -> SavedView:
    """A view the operator may change: their own (an admin: any shared one too)."""
    view = get_by_id(SavedView, view_id, "saved view")
    if view.owner_id != operator_id and not (is_admin and view.shared):
        raise NotFound(f'No view of yours has the id "{view_id[:64]}".')
    return view


def change(view_id: str, operator_id: str, is_admin: bool, *, shared: bool | None = None, pinned: bool | None = None):
    """Share or stop sharing, pin or unpin a view. A view that stops being shared stops being the
    default."""
    view = _own(view_id, operator_id, is_admin)
    if shared is not None:
        view.shared = shared
        view.is_default = view.is_default and shared
    if pinned is not None:
        view.pinned = pinned
    view.updated_at = utcnow()
    with unit_of_work():
        pass
    return view


def delete(view_id: str, operator_id: str, is_admin: bool) -> None:
    view = _own(view_id, operator_id, is_admin)
    with unit_of_work():
        db.session.delete(view)


def make_default(view_id: str | None) -> None:
    """Make a shared view the list's default (None: no default). Admins only (app/auth)."""
    view = get_by_id(SavedView, view_id, "saved view") if view_id else None
    if view is not None and not view.shared:
        raise Invalid([FieldError("view", "not_shared", f"Share “{view.name}” first: the default view is everyone's.")])
    with unit_of_work():
        db.session.execute(update(SavedView).where(SavedView.is_default).values(is_default=False))
        db.session.flush()
        if view is not None:
            view.is_default = True
