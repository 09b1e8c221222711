"""Races the database decides (issue 16): run with real threads, on SQLite and PostgreSQL."""

import threading

from sqlalchemy import func, select

from app.auth import rules
from app.auth.models import Operator
from app.extensions import db
from app.problems import Invalid

PASSWORD = "correct horse battery staple"


def race(app, *calls) -> list:
    """Run each call in its own thread and app context, all released at once; what each returned or raised."""
    barrier = threading.Barrier(len(calls))
    outcomes: list = [None] * len(calls)

    def run(i, call):
        with app.app_context():
            barrier.wait()
            try:
                outcomes[i] = call()
            except Exception as e:  # noqa: BLE001 - the test looks at each outcome
                outcomes[i] = e
            finally:
                db.session.remove()

    threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate(calls)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return outcomes


def active_admins() -> int:
    db.session.expire_all()
    return db.session.scalar(
        select(func.count()).select_from(Operator).where(Operator.role == "admin", Operator.disabled_at.is_(None))
    )


def test_two_admins_demoting_each_other_at_once_leave_one(app):
    survivor = app.accounts["admin"].operator_id
    for attempt in range(5):
        with app.app_context():  # exactly two active admins: a and b
            a = rules.create_operator(f"admin-a{attempt}", "admin", PASSWORD).id
            b = rules.create_operator(f"admin-b{attempt}", "admin", PASSWORD).id
            rules.update_operator(survivor, role="viewer")
            db.session.remove()
        outcomes = race(
            app, lambda: rules.update_operator(a, role="viewer"), lambda: rules.update_operator(b, active=False)
        )
        with app.app_context():
            assert active_admins() == 1, outcomes
            refused = [o for o in outcomes if isinstance(o, Invalid)]
            assert len(refused) == 1 and refused[0].errors[0].code == "last_admin", outcomes
            survivor = a if db.session.get(Operator, a).role == "admin" else b


def test_a_burst_of_wrong_passwords_gets_exactly_the_limit_checked(app, monkeypatch):
    """40 tries at once: each is counted before its password is checked, so 5 are checked, 35 refused."""
    checked = []
    real_check = rules.check_password_hash

    def counting_check(stored, password):
        checked.append(password)
        return real_check(stored, password)

    monkeypatch.setattr(rules, "check_password_hash", counting_check)
    limit = app.config["LOGIN_MAX_FAILURES_PER_ACCOUNT"]
    outcomes = race(app, *[lambda i=i: rules.log_in("test-admin", f"guess-{i}", f"192.0.2.{i}") for i in range(40)])
    statuses = sorted(o.status for o in outcomes)
    assert len(checked) == limit
    assert statuses == [401] * limit + [429] * (40 - limit)
