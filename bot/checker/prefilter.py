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


def word_prefixes(view: str) -> dict[str, list[int]]:
    """Every prefix (up to PREFIX_LEN characters) of every word, with where those words start."""
    out: dict[str, list[int]] = {}
    for m in _TOKEN.finditer(view):
        word, start = m.group(), m.start()
        for n in range(1, min(len(word), PREFIX_LEN) + 1):
            out.setdefault(word[:n], []).append(start)
    return out


def candidate_starts(prefixes: frozenset[str], present: dict[str, list[int]]) -> list[int]:
    """Where a match of a pattern with these word prefixes could begin, in order."""
    starts: set[int] = set()
    for prefix in prefixes:
        starts.update(present.get(prefix, ()))
    return sorted(starts)


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
    if not found or any(not _TOKEN.match(p) for p in found):
        return None
    # Words are split at anything but letters and digits, so "can't" or "sit on"
    # must be looked up by the word they start with ("can", "sit").
    return frozenset(_TOKEN.match(p).group()[:PREFIX_LEN] for p in found)  # type: ignore[union-attr]


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


def search(pattern: re.Pattern[str], prefixes: frozenset[str] | None, view: str,
           present: dict[str, list[int]]) -> re.Match[str] | None:
    """`pattern.search(view)`, but trying only where a match could begin.

    A pattern starting with a word boundary and known words can only match at
    the start of a word with one of those prefixes; `match` there (the boundary
    still sees the character before) is far cheaper than scanning every position.
    """
    if prefixes is None:
        return pattern.search(view)
    for start in candidate_starts(prefixes, present):
        m = pattern.match(view, start)
        if m:
            return m
    return None
