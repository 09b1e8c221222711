"""Same URL, page or fragment: the console's answer to htmx (`request.htmx`, from htmx-flask)."""

from flask import Response, make_response, render_template
from htmx_flask import request


def htmx_partial() -> bool:
    """Whether htmx asks for part of a page. A history restore (htmx missed its history cache) is
    sent by htmx but wants the whole page."""
    return bool(request.htmx) and not request.htmx.history_restore_request


def htmx_target() -> str | None:
    """The id of the element htmx will swap, or None when the whole page is wanted."""
    return request.htmx.target if htmx_partial() else None


def page_or_fragment(page: str, fragments: dict[str, str] | None = None, status: int = 200, /, **context) -> Response:
    """Render `page`, or the template `fragments` names for the element htmx targets, with `context`
    (positional-only parameters leave every name free for it, `page` too).

    The answer differs by HX-Request and HX-Target, so it says so in Vary (htmx-flask never does):
    a cache must not serve the fragment for the page, nor the page for the fragment.
    """
    template = (fragments or {}).get(htmx_target(), page)
    response = make_response(render_template(template, **context), status)
    response.vary.add("HX-Request")
    response.vary.add("HX-Target")
    return response
