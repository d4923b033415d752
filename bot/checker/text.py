"""Normalising draft text before matching, keeping a map back to the original.

People dodge filters with look-alike letters ("іdiot" with a Cyrillic і),
invisible characters, accents and leetspeak ("1d10t", "m0ron"). Two views of
the text are built, both the same length so one offset map serves both:

- `plain`: NFKC, lower case, look-alikes mapped to Latin, accents and
  zero-width characters removed, curly quotes and dashes made plain. Shape
  detectors (postcodes, phone numbers) read this view.
- `words`: `plain` with leetspeak undone inside words. Rules and the model read
  this view.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

ZERO_WIDTH = frozenset("\u200b\u200c\u200d\u2060\ufeff\u00ad\u180e\u200e\u200f\u202a\u202b\u202c\u202d\u202e")

# Latin look-alikes from Cyrillic and Greek, mapped after lower-casing.
HOMOGLYPHS = {
    "а": "a", "в": "b", "е": "e", "ё": "e", "к": "k", "м": "m", "н": "h", "о": "o", "р": "p",
    "с": "c", "т": "t", "у": "y", "х": "x", "ѕ": "s", "і": "i", "ї": "i", "ј": "j", "ԁ": "d",
    "ɡ": "g", "һ": "h", "ԛ": "q", "ԝ": "w", "ӏ": "l", "ո": "n", "ս": "u",
    "α": "a", "β": "b", "ε": "e", "η": "n", "ι": "i", "κ": "k", "ν": "v", "ο": "o", "ρ": "p",
    "τ": "t", "υ": "u", "χ": "x", "γ": "y", "ω": "w", "μ": "u", "ς": "s",
    # punctuation people type on phones
    "\u2018": "'", "\u2019": "'", "\u201a": "'", "\u201b": "'", "\u2032": "'", "`": "'",
    "\u201c": '"', "\u201d": '"', "\u201e": '"', "\u2033": '"',
    "\u2010": "-", "\u2011": "-", "\u2012": "-", "\u2013": "-", "\u2014": "-", "\u2015": "-", "\u2212": "-",
    "\u00a0": " ", "\u2009": " ", "\u202f": " ", "\u2007": " ",
}

LEET = {"0": "o", "1": "i", "3": "e", "4": "a", "5": "s", "7": "t", "@": "a", "$": "s", "!": "i", "|": "l", "€": "e"}
_TOKEN = re.compile(r"[a-z0-9@$!|€*]+")
# Numbers with units are not leetspeak: 10am, 4pm, 3rd, 850k, 2fa, 5g, 24x7.
_NOT_LEET = re.compile(r"^\d+(st|nd|rd|th|am|pm|k|m|bn|s|p|g|kg|km|mph|ft|mb|gb|fa|x\d+|ish|hrs?|mins?|yrs?)?$")


@dataclass(frozen=True)
class NormText:
    original: str
    plain: str
    words: str
    origin: tuple[int, ...]  # origin[i] = index in `original` of view character i

    def span(self, start: int, end: int) -> tuple[int, int]:
        """Map a [start, end) span of a view back to the original text."""
        if not self.origin:
            return (0, 0)
        start = min(max(start, 0), len(self.origin) - 1)
        end = min(max(end, start + 1), len(self.origin))
        return self.origin[start], self.origin[end - 1] + 1

    def evidence(self, start: int, end: int) -> str:
        a, b = self.span(start, end)
        return self.original[a:b]


@lru_cache(maxsize=8192)
def _fold_char(ch: str) -> str:
    if ch < "\x80":
        return "'" if ch == "`" else ch.lower()
    if ch in ZERO_WIDTH:
        return ""
    out = []
    for c in unicodedata.normalize("NFKC", ch).lower():
        c = HOMOGLYPHS.get(c, c)
        if ord(c) > 127 and c.isalpha():
            # Strip accents: "ïdïöt" reads as "idiot" (letters without a plain form stay).
            base = "".join(b for b in unicodedata.normalize("NFKD", c) if not unicodedata.combining(b))
            c = base or c
        out.append(c)
    return "".join(out)


def normalise(text: str) -> NormText:
    if text.isascii():
        plain = text.lower().replace("`", "'")
        origin: tuple[int, ...] = tuple(range(len(text)))
    else:
        chars: list[str] = []
        positions: list[int] = []
        for i, ch in enumerate(text):
            folded = _fold_char(ch)
            chars.append(folded)
            positions.extend([i] * len(folded))
        plain = "".join(chars)
        origin = tuple(positions)
    return NormText(text, plain, _undo_leet(plain), origin)


def _undo_leet(plain: str) -> str:
    if not any(c in plain for c in "0134579@$!|€"):
        return plain
    pieces: list[str] = []
    last = 0
    for m in _TOKEN.finditer(plain):
        token = m.group()
        letters = sum(c.isalpha() for c in token)
        if letters == 0 or len(token) < 3 or _NOT_LEET.match(token):
            continue
        # "@name" at the start of a word is a mention, not leetspeak.
        if token[0] == "@" and (m.start() == 0 or not plain[m.start() - 1].isalnum()):
            continue
        # Trailing "!" or "|" is punctuation ("now!"), not a letter.
        core = token.rstrip("!|")
        leet = sum(c in LEET for c in core)
        if leet == 0 or leet > letters + 1:
            continue
        pieces.append(plain[last : m.start()])
        pieces.append("".join(LEET.get(c, c) for c in core) + token[len(core):])
        last = m.end()
    pieces.append(plain[last:])
    return "".join(pieces)


_WORD = re.compile(r"[a-z][a-z'*]*[a-z*]|[a-z]|\d+")


def word_spans(view: str) -> list[tuple[str, int, int]]:
    return [(m.group(), m.start(), m.end()) for m in _WORD.finditer(view)]
