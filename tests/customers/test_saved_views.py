"""Saved views of the customers list: save, pin, share, the default view, and views whose filters
name something gone."""

import re

from app.customers import saved_views
from app.extensions import db
from tests.helpers import make, post, text


def save(client, name, list_args: dict, **flags):
    data = {"name": name, **list_args, **{k: "1" for k, v in flags.items() if v}}
    return post(client, "/customers/views/", data)


def test_save_a_view_and_open_it_from_the_list(app, csrf_client):
    make(app, name="Euro One", key="e1", currency="EUR", tags=["vip"])
    make(app, name="Dollar One", key="d1", currency="USD")
    saved = save(csrf_client, "Euro VIPs", {"currency": "EUR", "tag": "vip", "cols": "key,email"}, pinned=True)
    assert saved.status_code == 303
    landed = csrf_client.get(saved.headers["Location"])
    assert "View “Euro VIPs” saved." in text(landed)
    bar = re.search(r'<nav class="views-bar".*?</nav>', landed.text, re.DOTALL).group(0)
    assert 'aria-current="page">Euro VIPs</a>' in bar  # the list is on the view
    link = re.search(r'href="(/customers/\?[^"]+)"[^>]*>Euro VIPs', bar).group(1).replace("&amp;", "&")
    opened = csrf_client.get(link)
    assert "Euro One" in text(opened) and "Dollar One" not in text(opened)
    assert 'class="col-email"' in opened.text and 'class="col-plan"' not in opened.text


def test_a_name_is_needed_and_once_per_operator(app, csrf_client):
    save(csrf_client, "Mine", {"currency": "EUR"})
    again = csrf_client.get(save(csrf_client, "Mine", {"currency": "USD"}).headers["Location"])
    assert "You already have a view named “Mine”" in text(again)
    nameless = csrf_client.get(save(csrf_client, " ", {}).headers["Location"])
    assert "Name is required" in text(nameless)


def test_shared_views_are_everyones_and_an_admin_picks_the_default(app, csrf_client, client_as):
    save(csrf_client, "EUR", {"currency": "EUR"}, shared=True)
    save(csrf_client, "Private", {"currency": "USD"})
    viewer = client_as("viewer")
    page = text(viewer.get("/customers/views/"))
    assert "EUR" in page and "Shared by test-admin" in page and "Private" not in page
    with app.app_context():
        shared = next(v for v in saved_views.visible(app.accounts["admin"].operator_id) if v.name == "EUR")
    assert viewer.post("/customers/views/default", data={"view_id": shared.id}).status_code in (400, 403)
    assert post(csrf_client, "/customers/views/default", {"view_id": shared.id}).status_code == 303
    opened = viewer.get("/customers/")
    assert opened.status_code == 302 and opened.headers["Location"].endswith("/customers/?currency=EUR")
    assert viewer.get("/customers/?all=1").status_code == 200  # "All customers" stays reachable


def test_a_view_naming_a_deleted_profile_or_plan_says_so(app, client):
    page = text(client.get("/customers/?billing_profile=01JZZZZZZZZZZZZZZZZZZZZZZZ&plan=gone"))
    assert "The billing profile this list was filtered by no longer exists" in page
    assert "No live plan has the key “gone” any more" in page


def test_pin_unpin_share_and_delete(app, csrf_client):
    save(csrf_client, "Mine", {"currency": "EUR"})
    with app.app_context():
        view = db.session.scalars(db.select(saved_views.SavedView)).one()
    for action in ("pin", "share"):
        assert post(csrf_client, f"/customers/views/{view.id}", {"action": action}).status_code == 303
    with app.app_context():
        view = db.session.get(saved_views.SavedView, view.id)
        assert view.pinned and view.shared
    post(csrf_client, f"/customers/views/{view.id}", {"action": "delete"})
    assert "No saved views yet" in text(csrf_client.get("/customers/views/"))
    assert post(csrf_client, "/customers/views/not-a-view", {"action": "delete"}).status_code == 404
