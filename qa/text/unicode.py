"""Text that is valid Unicode: unpaired surrogates (from a JSON escape such as ``"\\udc00"`` or a
command-line byte that is not UTF-8) are refused before they reach the tokenizer or a file."""

from __future__ import annotations

import re

from qa.errors import InputError

_SURROGATE = re.compile("[\ud800-\udfff]")


def repair_text(text: str) -> str:
    """``text`` with every unpaired surrogate replaced by U+FFFD (for echoing bad input back safely)."""
    return _SURROGATE.sub("\ufffd", text)


def check_text(text: str, what: str = "text") -> str:
    """``text`` itself, or InputError naming the first unpaired surrogate and where it stands.

    Python strings never hold a valid surrogate pair (a pair is decoded into one character),
    so any surrogate is unpaired.
    """
    found = _SURROGATE.search(text)
    if found is None:
        return text
    code = ord(found.group())
    hint = f" (the byte 0x{code - 0xDC00:02X}, which is not UTF-8)" if 0xDC80 <= code <= 0xDCFF else ""
    raise InputError(
        f"the {what} holds an unpaired surrogate U+{code:04X} at character {found.start()}{hint}: "
        "it is not valid Unicode text"
    )
