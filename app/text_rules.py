"""What every area checks of the text it is given: no invisible control characters, a length limit."""

import unicodedata

from app.problems import FieldError


def bad_characters(value: str, multiline: bool = False) -> bool:
    """Control characters and lone surrogates: invisible, and PostgreSQL refuses NUL outright."""
    if value.isprintable():  # no control character (the common case, decided in C)
        return False
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


# What an identifier (a key, a subject key, a metadata key) may not hold: characters that do not
# show, or change how the text around them shows. Two identifiers that look the same must be the
# same: a subject key decides whose usage is billed to whom.
_HIDDEN_BY_CATEGORY = {
    "Cc": "a control character",
    "Cf": "an invisible formatting character",
    "Co": "a private-use character",
    "Cs": "a lone surrogate",
    "Zl": "a line separator",
    "Zp": "a paragraph separator",
}
# Blank or joining characters whose category looks harmless: Hangul fillers, the braille blank,
# the combining grapheme joiner, Khmer inherent vowels, variation selectors.
_HIDDEN = {0x034F, 0x115F, 0x1160, 0x17B4, 0x17B5, 0x2800, 0x3164, 0xFFA0, *range(0x180B, 0x1810)}
_HIDDEN |= {*range(0xFE00, 0xFE10), *range(0xE0100, 0xE01F0)}


def hidden_character(value: str) -> str | None:
    """Why `value` cannot be an identifier, naming the first offending character by code point and
    position ("a space other than the plain space, U+00A0 NO-BREAK SPACE, at position 5"), or None."""
    if value.isascii() and value.isprintable():  # the common case: nothing hidden below U+007F but controls
        return None
    for position, ch in enumerate(value, start=1):
        category = unicodedata.category(ch)
        what = _HIDDEN_BY_CATEGORY.get(category)
        if what is None and category == "Zs" and ch != " ":
            what = "a space other than the plain space"
        if what is None and ord(ch) in _HIDDEN:
            what = "an invisible character"
        if what is not None:
            name = unicodedata.name(ch, "")
            return f"{what}, U+{ord(ch):04X}{' ' + name if name else ''}, at position {position}"
    return None


def nfc(value: str | None) -> str | None:
    """Unicode's composed form: "café" typed as e + combining accent is the same key as "café"."""
    return unicodedata.normalize("NFC", value) if value else value


def check_identifier(
    errors: list[FieldError], name: str, value: str | None, max_len: int, *, label: str, required: bool = False
) -> None:
    """check_text for an identifier: besides length, no hidden character and no surrounding spaces."""
    before = len(errors)
    check_text(errors, name, value, max_len, label=label, required=required)
    if len(errors) > before or not value:
        return
    hidden = hidden_character(value)
    if hidden is not None:
        errors.append(FieldError(name, "hidden_character", f"{label} contains {hidden}."))
    elif value != value.strip():
        errors.append(FieldError(name, "whitespace", f"{label} cannot begin or end with spaces."))


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
