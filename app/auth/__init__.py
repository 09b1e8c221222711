"""Who may do what. Every request passes through `require_access` before its view runs."""

from flask import Flask


def require_access():
    """The single gate for every console page and API call.

    Operators and API tokens arrive with the operators issue; until then every request is let
    through here, and here alone, so that adding the check later changes one function, not each
    view. Return a response to refuse a request; return None to let it through.
    """
    return None


def init_app(app: Flask) -> None:
    app.before_request(require_access)
