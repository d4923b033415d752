"""A cheap test that lets most rule patterns skip the regular-expression search.

Python's `re` tries a pattern like `\\b(giving|gave|shared|...)` at every
position of the draft, which is slow for long drafts and many rules. Most of
our patterns start with a word boundary and a choice of words, so a pattern
can only match if some word of the draft starts with one of those words'
first letters. We work those prefixes out once, when the rules load.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

try:  # Python 3.11+ keeps the parser here; older versions had sre_parse.
    from re import _parser as sre_parse  # type: ignore[attr-defined]
    from re import _constants as sre_constants  # type: ignore[attr-defined]
except ImportError:  # pragma: no cover
    import sre_constants  # type: ignore[no-redef]
    import sre_parse  # type: ignore[no-redef]

PREFIX_LEN = 4
_TOKEN = re.compile(r"[a-z0-9]+")


def word_prefixes(view: str) -> frozenset[str]:
    """Every prefix (up to PREFIX_LEN characters) of every word in the draft."""
    out: set[str] = set()
    for word in set(_TOKEN.findall(view)):
        for n in range(1, min(len(word), PREFIX_LEN) + 1):
            out.add(word[:n])
    return frozenset(out)


def pattern_prefixes(pattern: re.Pattern[str]) -> frozenset[str] | None:
    """Word prefixes one of which a match must start with, or None if we can't tell."""
    return _cached_prefixes(pattern.pattern, pattern.flags)


@lru_cache(maxsize=4096)
def _cached_prefixes(source: str, flags: int) -> frozenset[str] | None:
    try:
        parsed = list(sre_parse.parse(source, flags))
    except Exception:  # noqa: BLE001 - any surprise just disables the shortcut
        return None
    if not parsed or parsed[0] != (sre_constants.AT, sre_constants.AT_BOUNDARY):
        return None
    found = _prefixes(parsed[1:])
    if not found or any(not p or not p[0].isalnum() for p in found):
        return None
    return frozenset(p[:PREFIX_LEN] for p in found)


def _prefixes(items: list[Any]) -> set[str] | None:
    """Literal prefixes of a sequence of parsed items (each a possible start)."""
    prefix = ""
    for op, arg in items:
        if op is sre_constants.LITERAL:
            prefix += chr(arg).lower()
            if len(prefix) >= PREFIX_LEN:
                return {prefix}
            continue
        if prefix:
            return {prefix}
        if op is sre_constants.SUBPATTERN:
            return _prefixes(list(arg[-1]))
        if op is sre_constants.BRANCH:
            result: set[str] = set()
            for branch in arg[1]:
                sub = _prefixes(list(branch))
                if not sub:
                    return None
                result |= sub
            return result
        if op in (sre_constants.MAX_REPEAT, sre_constants.MIN_REPEAT):
            low, _high, body = arg
            if low >= 1:
                return _prefixes(list(body))
            return None
        return None
    return {prefix} if prefix else None


def may_match(prefixes: frozenset[str] | None, present: frozenset[str]) -> bool:
    return prefixes is None or not prefixes.isdisjoint(present)
