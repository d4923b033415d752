"""Normalisation and shape detectors: the parts of the checker with exact answers."""

from __future__ import annotations

import pytest

from bot.checker.detectors import DETECTORS
from bot.checker.text import normalise


@pytest.mark.parametrize(
    ("raw", "words"),
    [
        ("1d10t", "idiot"),
        ("Absolute m0ron", "absolute moron"),
        ("sh!t and tw@t", "shit and twat"),
        ("\u0456di\u043et", "idiot"),  # Cyrillic i and o
        ("i\u200bd\u200bi\u200bo\u200bt", "idiot"),  # zero-width spaces
        ("\u00efd\u00ef\u00f6t", "idiot"),  # accents
        ("\uff49\uff44\uff49\uff4f\uff54", "idiot"),  # full-width letters (NFKC)
        ("Cllr O\u2019Neil \u2014 \u201cgreat\u201d", "cllr o'neil - \"great\""),
        ("Book now!", "book now!"),  # trailing ! is punctuation
        ("@Jamal_Ott hi", "@jamal_ott hi"),  # a mention is not leetspeak
        ("Meet at 10am on the 3rd, cost \u00a3850k", "meet at 10am on the 3rd, cost \u00a3850k"),
    ],
)
def test_normalised_words(raw: str, words: str) -> None:
    assert normalise(raw).words == words


def test_offsets_map_back_to_the_original_text() -> None:
    raw = "Total \u0456di\u200b\u043et!"
    norm = normalise(raw)
    start = norm.words.index("idiot")
    assert norm.evidence(start, start + 5) == "\u0456di\u200b\u043et"


def hits(name: str, text: str) -> list[str]:
    norm = normalise(text)
    return [norm.evidence(h.start, h.end).strip() for h in DETECTORS[name](norm)]


@pytest.mark.parametrize(
    ("name", "text", "expected"),
    [
        ("postcode", "FR4 7QT floods every winter", ["FR4 7QT"]),
        ("postcode", "Come along at 3pm, not 4am", []),
        ("postcode", "sw1a 1aa is the palace", ["sw1a 1aa"]),
        ("phone", "Ring 01632 960555 or 07700 900312", ["01632 960555", "07700 900312"]),
        ("mobile", "Ring 01632 960555 or +44 7700 900123", ["+44 7700 900123"]),
        ("phone", "Ref 24/01187/MIN and 55821", []),
        ("email", "Email jenny.marsh84@example.com", ["jenny.marsh84@example.com"]),
        ("email", "Email cllr.shah@swaleford.gov.uk or info@club.org.uk", []),
        ("ni_number", "NI number JT 48 22 91 C", ["JT 48 22 91 C"]),
        ("ni_number", "Room QQ12 is upstairs", []),
        ("vehicle_reg", "White van, reg KX19 TRB, dumped it", ["KX19 TRB"]),
        ("house_address", "The man at 14 Rowan Close is", ["14 Rowan Close"]),
        ("house_address", "Four new homes on Mill Lane", []),
        ("house_address", "We planted 4 trees on Mill Lane", []),
        ("house_address", "Back in 2024 Local Plan Way", []),
        ("credential", "Password is Kettleby2024! if anyone needs it", ["Password is Kettleby2024!"]),
        ("credential", "Change your password straight away", []),
        ("credential", "The code on planning probity is worth a read", []),
        ("credential", "the key safe code is 4471", ["code is 4471"]),
    ],
)
def test_detectors(name: str, text: str, expected: list[str]) -> None:
    assert hits(name, text) == expected
