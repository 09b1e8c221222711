"""The plans console, and the pages that subscribe a customer, change its plan or cancel.

Full pages, or the partial htmx asked for. Rules live in rules.py; every form here also works as a
plain form post with JavaScript off.
"""

from flask import Blueprint, flash, make_response, redirect, render_template, request, url_for

from app.customers import rules as customer_rules
from app.pages import htmx_target, page_or_fragment
from app.plans import rules
from app.plans.forms import PlanForm, SubscribeForm
from app.problems import Problem, StaleEdit

bp = Blueprint("plans", __name__)

NAV = ("plans.index", "Plans")


# --- Plans ------------------------------------------------------------------------------------


@bp.get("/plans/")
def index():
    plans = rules.live_plans()
    counts = rules.active_subscription_counts([p.id for p in plans])
    return render_template("plans/list.html", plans=plans, counts=counts)


def _render_form(form: PlanForm, plan=None, status: int = 200):
    return render_template("plans/form.html", form=form, plan=plan), status


@bp.route("/plans/new", methods=["GET", "POST"])
def create():
    form = PlanForm()
    if request.method == "GET":
        return _render_form(form)
    try:
        plan = rules.create_plan(form.to_input())
    except Problem as problem:
        form.show_problem(problem)
        return _render_form(form, status=422)
    if request.form.get("action") == "save_add":
        flash(f"Plan “{plan.name}” saved. Add another one below.", "success")
        return redirect(url_for(".create"), 303)
    flash(f"Plan “{plan.name}” saved.", "success")
    return redirect(url_for(".show", plan_id=plan.id), 303)


@bp.get("/plans/<plan_id>")
def show(plan_id: str):
    plan = rules.get_plan(plan_id)
    return render_template("plans/show.html", plan=plan, subscriptions=rules.active_subscriptions_of_plan(plan.id))


@bp.route("/plans/<plan_id>/edit", methods=["GET", "POST"])
def edit(plan_id: str):
    plan = rules.get_plan(plan_id)
    if plan.is_deleted:
        flash("This plan is deleted and cannot be edited.", "error")
        return redirect(url_for(".show", plan_id=plan.id), 303)
    if request.method == "GET":
        return _render_form(PlanForm.for_plan(plan), plan)
    form = PlanForm()
    if form.missing_version():
        return _render_form(form, plan, 400)
    try:
        rules.replace_plan(plan.id, form.to_input(editing=True), expected_version=form.expected_version)
    except StaleEdit as problem:
        form.version.data = str(rules.get_plan(plan.id).version)  # saving again, having been told, is deliberate
        form.show_problem(problem)
        return _render_form(form, plan, 409)
    except Problem as problem:
        form.show_problem(problem)
        return _render_form(form, plan, 422)
    flash(f"Plan “{plan.name}” saved.", "success")
    return redirect(url_for(".show", plan_id=plan.id), 303)


@bp.route("/plans/<plan_id>/delete", methods=["GET", "POST"])
def delete(plan_id: str):
    plan = rules.get_plan(plan_id)
    if plan.is_deleted:
        flash("This plan is already deleted.", "error")
        return redirect(url_for(".show", plan_id=plan.id), 303)
    status, refusal = 200, None
    if request.method == "POST":
        try:
            rules.delete_plan(plan.id)
        except Problem as problem:
            status, refusal = problem.status, problem
        else:
            flash(f"Plan “{plan.name}” deleted. Its key {plan.key} is free for a new plan.", "success")
            return redirect(url_for(".index"), 303)
    subscriptions = rules.active_subscriptions_of_plan(plan.id)
    html = render_template("plans/delete.html", plan=plan, subscriptions=subscriptions, refusal=refusal)
    return html, status


# --- Subscriptions ----------------------------------------------------------------------------


def _back_to_customer(customer_id: str):
    """After a subscription change: the customer page, also when htmx posted the form."""
    url = url_for("customers.show", customer_id=customer_id)
    if htmx_target():
        response = make_response("", 200)
        response.headers["HX-Redirect"] = url
        return response
    return redirect(url, 303)


@bp.route("/customers/<customer_id>/subscribe", methods=["GET", "POST"])
def subscribe(customer_id: str):
    customer = customer_rules.get(customer_id)
    current = rules.active_subscription(customer.id)
    if customer.is_deleted or current is not None:
        flash("This customer is deleted." if customer.is_deleted else "This customer already has a plan.", "error")
        return _back_to_customer(customer.id)
    form = SubscribeForm(customer=customer, plans=rules.live_plans())
    status = 200
    if request.method == "POST":
        try:
            subscription = rules.subscribe(form.plan.data, customer_id=customer.id)
        except Problem as problem:
            form.show_problem(problem)
            status = 422
        else:
            flash(f"“{customer.name}” is now subscribed to {subscription.plan.name}.", "success")
            return _back_to_customer(customer.id)
    fragments = {"subscribe-form": "plans/_subscribe_form.html"}
    return page_or_fragment("plans/subscribe.html", fragments, status, customer=customer, form=form)


@bp.get("/subscriptions/<subscription_id>")
def subscription(subscription_id: str):
    subscription = rules.get_subscription(subscription_id)
    # "Change plan" only when another plan fits the customer's currency.
    other_plans = [
        p
        for p in rules.live_plans()
        if p.id != subscription.plan_id and rules.fits_currency(p, subscription.customer.currency)
    ]
    return render_template("plans/subscription.html", subscription=subscription, other_plans=other_plans)


def _ended(subscription):
    flash("This subscription has already ended.", "error")
    return redirect(url_for(".subscription", subscription_id=subscription.id), 303)


@bp.route("/subscriptions/<subscription_id>/change", methods=["GET", "POST"])
def change(subscription_id: str):
    subscription = rules.get_subscription(subscription_id)
    if not subscription.is_active:
        return _ended(subscription)
    customer = subscription.customer
    form = SubscribeForm(customer=customer, plans=rules.live_plans(), current_plan=subscription.plan)
    status = 200
    if request.method == "POST":
        try:
            old, new = rules.change_plan(subscription.id, form.plan.data)
        except Problem as problem:
            form.show_problem(problem)
            status = 422
        else:
            flash(f"“{customer.name}” moved from {old.plan.name} to {new.plan.name}.", "success")
            return _back_to_customer(customer.id)
    return render_template("plans/change.html", subscription=subscription, form=form), status


@bp.route("/subscriptions/<subscription_id>/cancel", methods=["GET", "POST"])
def cancel(subscription_id: str):
    subscription = rules.get_subscription(subscription_id)
    if not subscription.is_active:
        return _ended(subscription)
    if request.method == "POST":
        rules.cancel(subscription.id)
        flash(f"The subscription of “{subscription.customer.name}” to {subscription.plan.name} ended.", "success")
        return _back_to_customer(subscription.customer_id)
    return render_template("plans/cancel.html", subscription=subscription)
