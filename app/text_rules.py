"""What every area checks of the text it is given: no invisible control characters, a length limit."""

import unicodedata

from app.problems import FieldError


def bad_characters(value: str, multiline: bool = False) -> bool:
    """Control characters and lone surrogates: invisible, and PostgreSQL refuses NUL outright."""
    allowed = {"\n", "\r", "\t"} if multiline else set()
    return any(unicodedata.category(ch) in ("Cc", "Cs") and ch not in allowed for ch in value)


def check_text(
    errors: list[FieldError],
    name: str,
    value: str | None,
    max_len: int,
    *,
    label: str,
    required: bool = False,
    multiline: bool = False,
) -> None:
    if value is None or value == "":
        if required:
            errors.append(FieldError(name, "required", f"{label} is required."))
        return
    if bad_characters(value, multiline):
        errors.append(FieldError(name, "invalid_characters", f"{label} contains control characters."))
    elif len(value) > max_len:
        errors.append(
            FieldError(name, "too_long", f"{label} must be at most {max_len} characters (it has {len(value)}).")
        )
