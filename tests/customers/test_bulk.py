"""Changing many customers at once: preview, reason, run, history, undo; and what refuses."""

import re

import pytest

from app.billing import rules as billing_rules
from app.customers import rules
from app.extensions import db
from app.history.models import Change
from app.plans import rules as plan_rules
from tests.helpers import make, post, text


def start(client, data: dict):
    """Preview a change; answer the preview's page."""
    response = post(client, "/customers/bulk/", data)
    assert response.status_code == 303, text(response)
    return client.get(response.headers["Location"])


def job_of(page) -> str:
    return re.search(r"/customers/bulk/([0-9A-Z]{26})", page.request.path).group(1)


def apply(client, preview, reason="Moving EMEA accounts"):
    response = post(client, f"/customers/bulk/{job_of(preview)}/apply", {"reason": reason})
    assert response.status_code == 303, text(response)
    return client.get(response.headers["Location"])


@pytest.fixture
def three(app):
    return [make(app, name=f"C{i}", key=f"c{i}", tags=["vip"] if i == 0 else []) for i in range(3)]


def tags(app, key):
    with app.app_context():
        return rules.get(key).tags


def test_add_a_tag_to_all_matching_with_preview_reason_and_history(app, csrf_client, three):
    preview = start(csrf_client, {"scope": "all", "action": "tag_add", "change_tag": "emea"})
    shown = text(preview)
    assert "3 customers to change" in shown and "0 customers already so" in shown
    assert tags(app, "c1") == []  # a preview changes nothing
    done = apply(csrf_client, preview)
    assert "3 customers changed" in text(done)
    assert tags(app, "c0") == ["emea", "vip"] and tags(app, "c2") == ["emea"]
    with app.app_context():
        changes = db.session.scalars(db.select(Change).where(Change.job_id == job_of(done))).all()
        assert len(changes) == 3 and {c.reason for c in changes} == {"Moving EMEA accounts"}
    history = text(csrf_client.get(f"/customers/{three[1]}"))
    assert "Reason: Moving EMEA accounts" in history
    activity = text(csrf_client.get(f"/activity/?job={job_of(done)}"))
    assert "C0" in activity and "C2" in activity


def test_ticked_rows_only_and_the_unchanged_are_counted(app, csrf_client, three):
    preview = start(csrf_client, {"ids": [three[0], three[1]], "action": "tag_remove", "change_tag": "vip"})
    assert "1 customer to change" in text(preview) and "1 customer already so" in text(preview)
    apply(csrf_client, preview)
    assert tags(app, "c0") == [] and tags(app, "c2") == []


def test_the_list_filters_choose_the_customers(app, csrf_client, three):
    preview = start(
        csrf_client,
        {"scope": "all", "tag": "vip", "action": "metadata_set", "change_key": "tier", "change_value": "gold"},
    )
    assert "1 customer to change" in text(preview)
    apply(csrf_client, preview)
    with app.app_context():
        assert rules.get("c0").metadata_ == {"tier": "gold"} and rules.get("c1").metadata_ == {}


def test_pin_then_undo(app, csrf_client, three):
    with app.app_context():
        profile = billing_rules.live_profiles()[0]
    done = apply(csrf_client, start(csrf_client, {"scope": "all", "action": "pin", "change_profile": profile.id}))
    assert "3 customers changed" in text(done)
    assert f"Bill by {profile.name}" in text(done)
    undo = post(csrf_client, f"/customers/bulk/{job_of(done)}/undo")
    undone = csrf_client.get(undo.headers["Location"])
    assert "3 customers changed" in text(undone)
    listed = text(csrf_client.get("/customers/"))
    assert "(pinned)" not in listed


def test_a_batch_larger_than_a_page_is_previewed_and_undone_whole(app, csrf_client, three, monkeypatch):
    """Batches are read and undone a page at a time: every customer is still counted once."""
    from app.customers import bulk

    monkeypatch.setattr(bulk, "BATCH", 2)
    extra = [make(app, name=f"D{i}", key=f"d{i}") for i in range(2)]
    preview = start(csrf_client, {"scope": "all", "action": "tag_add", "change_tag": "moved"})
    assert "5 customers to change" in text(preview)
    done = apply(csrf_client, preview)
    assert "5 customers changed" in text(done)
    undone = csrf_client.get(post(csrf_client, f"/customers/bulk/{job_of(done)}/undo").headers["Location"])
    assert "5 customers changed" in text(undone)
    assert all("moved" not in tags(app, key) for key in ("c0", "c1", "c2", "d0", "d1")), extra


def test_delete_refuses_subscribed_customers_and_undo_brings_the_rest_back(app, csrf_client, three):
    with app.app_context():
        plan = plan_rules.create_plan(
            plan_rules.PlanInput(key="pro", name="Pro", currency="EUR", billing_cadence="P1M", amount="49")
        )
        rules.replace("c0", rules.CustomerInput(name="C0", key="c0", currency="EUR", tags=["vip"]))
        plan_rules.subscribe(plan.key, three[0])
    preview = start(csrf_client, {"scope": "all", "action": "delete"})
    shown = text(preview)
    assert "2 customers to change" in shown and "1 customer cannot change" in shown
    assert "Has an active subscription to Pro" in shown
    done = apply(csrf_client, preview, "Closing test accounts")
    assert "2 customers changed" in text(done)
    with app.app_context():
        assert rules.get(three[1]).is_deleted and not rules.get("c0").is_deleted
    make(app, name="Took the key", key="c2")  # c2's key is taken meanwhile
    undone = csrf_client.get(post(csrf_client, f"/customers/bulk/{job_of(done)}/undo").headers["Location"])
    shown = text(undone)
    assert "1 customer changed" in shown and "1 customer not changed" in shown and "Took the key" in shown
    with app.app_context():
        assert not rules.get(three[1]).is_deleted and rules.get(three[2]).is_deleted


def test_bad_input_is_answered_clearly(app, csrf_client, three):
    nothing = post(csrf_client, "/customers/bulk/", {"action": "tag_add", "change_tag": "vip"})
    assert nothing.status_code == 422 and "No customer is selected" in text(nothing)
    bad_tag = post(csrf_client, "/customers/bulk/", {"scope": "all", "action": "tag_add", "change_tag": "not a tag!"})
    assert bad_tag.status_code == 422 and "is not a tag" in text(bad_tag)
    no_action = post(csrf_client, "/customers/bulk/", {"scope": "all"})
    assert no_action.status_code == 422 and "Choose what to do" in text(no_action)
    preview = start(csrf_client, {"scope": "all", "action": "tag_add", "change_tag": "x"})
    no_reason = post(csrf_client, f"/customers/bulk/{job_of(preview)}/apply", {"reason": " "})
    assert no_reason.status_code == 422 and "Say why" in text(no_reason)
    make(app, name="New", key="new")  # the selection grows after the preview
    again = apply(csrf_client, preview)
    assert "it was 3 customers, it is 4 now" in text(again) and "4 customers to change" in text(again)
    assert tags(app, "c1") == []


def test_viewers_cannot_change_in_bulk(app, client_as, three):
    viewer = client_as("viewer")
    assert viewer.get("/customers/bulk/?scope=all").status_code == 403
    assert "Change all" not in text(viewer.get("/customers/"))


def test_the_jobs_page_leads_to_the_change_page(app, csrf_client, three):
    done = apply(csrf_client, start(csrf_client, {"scope": "all", "action": "tag_add", "change_tag": "emea"}))
    assert "Add the tag emea (3 customers)" in text(csrf_client.get("/jobs/"))
    answer = csrf_client.get(f"/jobs/{job_of(done)}")
    assert answer.status_code == 302 and answer.headers["Location"].endswith(f"/customers/bulk/{job_of(done)}")


def test_a_tag_is_typed_as_in_the_customer_form(app, csrf_client, three):
    """ "Key Account" is the tag key-account, in bulk as in one customer's form."""
    done = apply(csrf_client, start(csrf_client, {"scope": "all", "action": "tag_add", "change_tag": " Key  Account "}))
    assert "3 customers changed" in text(done)
    assert "key-account" in tags(app, "c1")
