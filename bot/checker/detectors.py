"""Detectors for things with a shape: postcodes, phone numbers, emails and the like.

Each detector reads the `plain` view (see text.py) and returns spans in that
view. Detectors only find the shape; whether it is a problem (a resident's
mobile number, or the council's helpline?) is for the rules and the model.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from .text import NormText


@dataclass(frozen=True)
class Hit:
    kind: str
    start: int
    end: int


# Inward codes never use C, I, K, M, O or V, which keeps "3am" and "4pm" out.
_POSTCODE = re.compile(
    r"\b(?:[a-pr-uwyz][a-hk-y]?\d[a-z\d]?)\s?\d[abd-hjlnp-uw-z]{2}\b"
)
_PHONE = re.compile(r"(?<![\d/.£])(?:\+44\s?\(?0?\)?\s?|\(?0)(?:\d[\s\-()]?){8,9}\d(?![\d/])")
_MOBILE = re.compile(r"^(?:\+44\s?\(?0?\)?\s?|0)7")
_SERVICE_PHONE = re.compile(r"^(?:0800|0808|0300|0330|0345|0845|0870|03|08)")
_EMAIL = re.compile(r"\b[a-z0-9][a-z0-9._%+-]*@[a-z0-9-]+(?:\.[a-z0-9-]+)*\.[a-z]{2,}\b")
# Public bodies and role addresses are meant to be shared.
_PUBLIC_EMAIL_DOMAIN = re.compile(r"(?:\.gov\.uk|\.nhs\.uk|\.nhs\.net|\.police\.uk|\.parliament\.uk|\.ac\.uk|\.sch\.uk|\.gov\.wales|\.gov\.scot|\.gov)$")
_ROLE_MAILBOX = re.compile(
    r"^(?:info|enquiries|enquiry|hello|contact|admin|office|bookings?|help|support|team|press|media|"
    r"news|clerk|council|mail|secretary|chair|events|volunteer|volunteers|ward\w*|cllr\.?\w*|councillor\.?\w*)$"
)
_NI_NUMBER = re.compile(r"\b(?!bg|gb|nk|kn|tn|nt|zz)[a-ceghj-pr-tw-z][a-ceghj-npr-tw-z]\s?\d{2}\s?\d{2}\s?\d{2}\s?[a-d]\b")
_VEHICLE_REG = re.compile(r"\b[a-hj-pr-y][a-hj-pr-y]\d{2}\s?[a-hj-pr-z]{3}\b")
_OLD_REG = re.compile(r"\b[a-hj-npr-y]\d{1,3}\s?[a-hj-pr-y]{3}\b")
_REG_CONTEXT = re.compile(r"\b(?:reg|registration|number ?plate|plate|car|van|vehicle)\b")
_STREET_SUFFIX = (
    r"road|rd|street|st|lane|ln|avenue|ave|close|crescent|cres|drive|dr|way|grove|place|pl|court|ct|gardens|"
    r"terrace|view|row|walk|mews|square|sq|hill|rise|parade|green|fold|gate|wynd|vale|yard|side|end|croft|"
    r"meadows?|mount|bank|brow|chase|path|heights|cottages|park|quay|wharf|lea|ley|dene|holt|garth|hey|"
    r"street|rd\.|st\."
)
# A house number (or flat) followed by one to three capitalised words and a street word.
_HOUSE = re.compile(
    r"\b(?:flat|apartment|apt|unit|no\.?|number)?\s?(\d{1,4}[a-z]?),?\s+((?:[a-z][a-z'\-]+\s+){0,3}?)(?:"
    + _STREET_SUFFIX
    + r")\b"
)
_FLAT = re.compile(r"\b(?:flat|apartment|apt)\s+\d{1,4}[a-z]?\b,?\s+(?:[a-z][a-z'\-]+\s+){0,2}(?:house|court|mansions|tower|lodge|building|block|heights|point|the\s+\w+)?")
_CREDENTIAL = re.compile(
    r"\b(password|passcode|passwd|pwd|pin(?: number| code)?|login|log-in|username|user name|user|"
    r"key ?safe code|door code|alarm code|wi-?fi password|code)\b(?:\s+(?:for|to|of|on)\s+[\w' ]{1,30}?)?"
    r"\s*(?:is|was|:|=|-|'s)\s*['\"]?([^\s'\",]{3,})"
)
_OTP = re.compile(r"\b(?:code|otp|pin)\b[^.\n]{0,40}?\b(\d{3}\s?\d{3}|\d{4,8})\b")
_NOT_SECRET = re.compile(
    r"^(?:the|a|an|your|my|our|their|his|her|not|never|important|key|easy|simple|strong|weak|long|short|"
    r"unique|different|same|changed|required|needed|reset|safe|secure|private|personal|still|now|in|on|at|"
    r"sent|below|above|attached|here|there|available|coming|ready|what|how|why|when|being|too|very|so|"
    r"just|really|ok|okay|fine|broken|wrong|correct|expired|\d{1,2}(?:am|pm)|\d+%?|tips?|advice)$"
)


def postcodes(text: NormText) -> list[Hit]:
    return [Hit("postcode", m.start(), m.end()) for m in _POSTCODE.finditer(text.plain)]


def _phones(text: NormText) -> list[tuple[re.Match[str], str]]:
    found = []
    for m in _PHONE.finditer(text.plain):
        digits = re.sub(r"\D", "", m.group())
        if digits.startswith("44"):
            digits = "0" + digits[2:]
        if not 10 <= len(digits) <= 11:
            continue
        kind = "mobile" if _MOBILE.match(m.group()) else ("service" if _SERVICE_PHONE.match(digits) else "landline")
        found.append((m, kind))
    return found


def phones(text: NormText) -> list[Hit]:
    return [Hit(kind, m.start(), m.end()) for m, kind in _phones(text)]


def mobiles(text: NormText) -> list[Hit]:
    return [Hit("mobile", m.start(), m.end()) for m, kind in _phones(text) if kind == "mobile"]


def emails(text: NormText) -> list[Hit]:
    """Email addresses that look personal (not a public body's, not a role mailbox)."""
    hits = []
    for m in _EMAIL.finditer(text.plain):
        local, _, domain = m.group().partition("@")
        if _PUBLIC_EMAIL_DOMAIN.search(domain) or _ROLE_MAILBOX.match(local):
            continue
        hits.append(Hit("email", m.start(), m.end()))
    return hits


def ni_numbers(text: NormText) -> list[Hit]:
    return [Hit("ni_number", m.start(), m.end()) for m in _NI_NUMBER.finditer(text.plain)]


def vehicle_regs(text: NormText) -> list[Hit]:
    hits = [Hit("vehicle_reg", m.start(), m.end()) for m in _VEHICLE_REG.finditer(text.plain)]
    if _REG_CONTEXT.search(text.plain):
        hits += [Hit("vehicle_reg", m.start(), m.end()) for m in _OLD_REG.finditer(text.plain)]
    return hits


def house_addresses(text: NormText) -> list[Hit]:
    """A house number with a street ("12 Beck Lane", "Flat 4, Harbour House").

    The street's words must be capitalised in the original, so "4 new homes on
    the lane" is not an address.
    """
    hits = []
    for m in _HOUSE.finditer(text.plain):
        words = m.group(2).split()
        if any(not _capitalised(text, m.start(2) + _offset(m.group(2), w, i)) for i, w in enumerate(words)):
            continue
        suffix_start = m.end(2)
        if not _capitalised(text, suffix_start):
            continue
        number = m.group(1)
        if len(number) == 4 and number.isdigit() and number.startswith(("19", "20")):
            continue  # a year, not a house number
        hits.append(Hit("house_address", m.start(1), m.end()))
    for m in _FLAT.finditer(text.plain):
        hits.append(Hit("house_address", m.start(), m.end()))
    return hits


def _offset(segment: str, word: str, index: int) -> int:
    pos = -1
    for _ in range(index + 1):
        pos = segment.find(word, pos + 1)
    return max(pos, 0)


def _capitalised(text: NormText, view_index: int) -> bool:
    if view_index >= len(text.origin):
        return False
    ch = text.original[text.origin[view_index]]
    return ch.isupper() or not ch.isalpha()


def credentials(text: NormText) -> list[Hit]:
    hits = []
    for m in _CREDENTIAL.finditer(text.plain):
        secret = m.group(2).rstrip(".!?;)")
        if _NOT_SECRET.match(secret) or len(secret) < 3:
            continue
        if m.group(1) in ("code", "user", "login", "username", "user name") and not any(c.isdigit() for c in secret):
            continue
        hits.append(Hit("credential", m.start(), m.end()))
    for m in _OTP.finditer(text.plain):
        hits.append(Hit("credential", m.start(), m.end()))
    return hits


DETECTORS: dict[str, Callable[[NormText], list[Hit]]] = {
    "postcode": postcodes,
    "phone": phones,
    "mobile": mobiles,
    "email": emails,
    "ni_number": ni_numbers,
    "vehicle_reg": vehicle_regs,
    "house_address": house_addresses,
    "credential": credentials,
}


class DetectorCache:
    """Runs each detector at most once per draft."""

    def __init__(self, text: NormText):
        self.text = text
        self._hits: dict[str, list[Hit]] = {}

    def hits(self, name: str) -> list[Hit]:
        if name not in self._hits:
            self._hits[name] = DETECTORS[name](self.text)
        return self._hits[name]
