"""The plans and subscriptions part of the OpenAPI document (merged by app/meta/openapi.py)."""

from app.common import MAX_PAGE_SIZE
from app.customers.openapi import CUSTOMER_ID_OR_KEY
from app.meta.openapi_parts import (
    ERRORS,
    PAGE,
    conditional,
    json_body,
    json_response,
    problem,
    query,
    ref,
    tagged,
)
from app.plans import rules, schemas
from app.schemas import ID_PATTERN, component_schemas

PLAN_ID_OR_KEY = {
    "name": "planIdOrKey",
    "in": "path",
    "required": True,
    "description": "The plan's id (live or deleted) or the key of a live plan.",
    "schema": {"type": "string"},
}
SUBSCRIPTION_ID = {
    "name": "subscriptionId",
    "in": "path",
    "required": True,
    "schema": {"type": "string", "pattern": ID_PATTERN},
}
PAGING = [
    PAGE,
    query("pageSize", {"type": "integer", "minimum": 1, "maximum": MAX_PAGE_SIZE, "default": 100}),
    query("order", {"type": "string", "enum": ["ASC", "DESC"], "default": "ASC"}),
]


PATHS = {
    "/api/v1/plans": {
        "get": {
            "operationId": "listPlans",
            "summary": "List plans",
            "parameters": [
                *PAGING,
                query("orderBy", {"type": "string", "enum": list(rules.PLAN_ORDERINGS), "default": "key"}),
                query("includeDeleted", {"type": "boolean", "default": False}),
                query("key", {"type": "array", "items": {"type": "string"}}, "Exact keys; any of them."),
                query("currency", {"type": "array", "items": {"type": "string"}}, "Currency codes; any of them."),
            ],
            "responses": {"200": json_response(ref("PlanPaginatedResponse"), "A page of plans."), **ERRORS},
        },
        "post": {
            "operationId": "createPlan",
            "summary": "Create a plan",
            "requestBody": json_body("PlanCreate"),
            "responses": {
                "201": tagged(json_response(ref("Plan"), "The new plan.")),
                **ERRORS,
                "409": problem("A live plan has this key; it is named."),
            },
        },
    },
    "/api/v1/plans/{planIdOrKey}": {
        "parameters": [PLAN_ID_OR_KEY],
        "get": {
            "operationId": "getPlan",
            "summary": "Get a plan",
            "responses": {
                "200": tagged(json_response(ref("Plan"), "The plan.")),
                **ERRORS,
                "404": problem("No such plan."),
            },
        },
        "put": conditional(
            {
                "operationId": "updatePlan",
                "summary": "Replace a plan's name, description, price and cadence; key and currency are fixed",
                "requestBody": json_body("PlanReplaceUpdate"),
                "responses": {
                    "200": tagged(json_response(ref("Plan"), "The plan as replaced.")),
                    **ERRORS,
                    "404": problem("No such plan."),
                    "409": problem("Someone else changed the plan meanwhile."),
                    "412": problem("The plan is deleted."),
                },
            }
        ),
        "delete": conditional(
            {
                "operationId": "deletePlan",
                "summary": "Soft-delete a plan; its key becomes free",
                "responses": {
                    "204": {"description": "Deleted."},
                    **ERRORS,
                    "404": problem("No such plan."),
                    "409": problem("Customers are subscribed to the plan; they are named."),
                    "412": problem("The plan is already deleted."),
                },
            }
        ),
    },
    "/api/v1/subscriptions": {
        "post": {
            "operationId": "createSubscription",
            "summary": "Subscribe a customer to a plan, from now on",
            "requestBody": json_body("PlanSubscriptionCreate"),
            "responses": {
                "201": json_response(ref("Subscription"), "The new subscription."),
                **ERRORS,
                "404": problem("No such customer or plan."),
                "409": problem("The customer already has an active subscription."),
                "412": problem("The customer is deleted."),
            },
        },
    },
    "/api/v1/subscriptions/{subscriptionId}": {
        "parameters": [SUBSCRIPTION_ID],
        "get": {
            "operationId": "getSubscription",
            "summary": "Get a subscription",
            "responses": {
                "200": json_response(ref("Subscription"), "The subscription."),
                **ERRORS,
                "404": problem("No such subscription."),
            },
        },
    },
    "/api/v1/subscriptions/{subscriptionId}/change": {
        "parameters": [SUBSCRIPTION_ID],
        "post": {
            "operationId": "changeSubscription",
            "summary": "End the subscription now and start one on another plan, in one step",
            "requestBody": json_body("PlanSubscriptionChange"),
            "responses": {
                "200": json_response(ref("SubscriptionChangeResponseBody"), "The ended and the new subscription."),
                **ERRORS,
                "404": problem("No such subscription or plan."),
                "409": problem("The customer was changed meanwhile."),
                "412": problem("The subscription has already ended."),
            },
        },
    },
    "/api/v1/subscriptions/{subscriptionId}/cancel": {
        "parameters": [SUBSCRIPTION_ID],
        "post": {
            "operationId": "cancelSubscription",
            "summary": "End the subscription now",
            "requestBody": {"required": False, "content": {"application/json": {"schema": ref("CancelRequest")}}},
            "responses": {
                "200": json_response(ref("Subscription"), "The ended subscription."),
                **ERRORS,
                "404": problem("No such subscription."),
                "409": problem("The customer was changed meanwhile."),
                "412": problem("The subscription has already ended."),
            },
        },
    },
    "/api/v1/customers/{customerIdOrKey}/subscriptions": {
        "parameters": [CUSTOMER_ID_OR_KEY],
        "get": {
            "operationId": "listCustomerSubscriptions",
            "summary": "A customer's subscriptions, past and present",
            "parameters": [
                *PAGING,
                query(
                    "orderBy", {"type": "string", "enum": list(rules.SUBSCRIPTION_ORDERINGS), "default": "activeFrom"}
                ),
                query(
                    "status",
                    {"type": "array", "items": {"type": "string", "enum": list(rules.STATUSES)}},
                    "Any of these statuses.",
                ),
            ],
            "responses": {
                "200": json_response(ref("SubscriptionPaginatedResponse"), "A page of subscriptions."),
                **ERRORS,
                "404": problem("No such customer."),
            },
        },
    },
}

SCHEMAS = component_schemas(*schemas.SHAPES)
