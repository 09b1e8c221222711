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


# Letters that Unicode does not decompose into a base letter and a mark, filed under the letters
# people file them under (Łódź with the Ls, Ørsted with the Os).
_PLAIN_LETTERS = str.maketrans(
    {"ł": "l", "ø": "o", "đ": "d", "ð": "d", "ħ": "h", "ı": "i", "ŀ": "l", "þ": "th", "æ": "ae", "œ": "oe"}
)
SORT_KEY_MAX = 256  # a name's first 256 letters decide its place; PostgreSQL's index rows have a size limit


def sort_key(name: str) -> str:
    """What a list sorts `name` by, so that names sort as people expect: case and accents do not
    split the alphabet (alpha, Bravo, Charlie, Émile, zeta), and names equal but for them sort by id.

    The key is compared code point by code point (SQLite's BINARY collation, PostgreSQL's "C"), so
    both databases give the same order, whatever the server's locale."""
    decomposed = unicodedata.normalize("NFKD", name.casefold())
    plain = "".join(ch for ch in decomposed if not unicodedata.combining(ch)).translate(_PLAIN_LETTERS)
    return plain[:SORT_KEY_MAX]
