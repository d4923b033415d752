"""The "can I post this?" checker: rules and shape detectors plus a small model.

Rules catch what has a clear shape or wording, with `unless` guards for the
harmless uses; the model, trained on labelled drafts, judges the meaning of the
rest. The verdict is the most serious of the two.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from ..kb_sections import Rule, Topic
from .detectors import DetectorCache
from .model import Model, draft_features
from .prefilter import pattern_prefixes, search, word_prefixes
from .text import NormText, normalise

MAX_CHARS = 5000
SEVERITY_RANK = {"ok": 0, "caution": 1, "stop": 2}
ACCOUNTS = ("personal", "official", "campaign")


@dataclass(frozen=True)
class CheckContext:
    pre_election: bool = False
    account: str = "personal"  # personal | official | campaign
    platform: str = ""


@dataclass(frozen=True)
class Finding:
    category: str
    rule: str
    severity: str  # caution | stop
    start: int
    end: int
    evidence: str
    message: str
    suggestion: str
    topic: str  # a guidance topic id

    def to_dict(self) -> dict[str, Any]:
        return {
            "category": self.category,
            "rule": self.rule,
            "severity": self.severity,
            "start": self.start,
            "end": self.end,
            "evidence": self.evidence,
            "message": self.message,
            "suggestion": self.suggestion,
            "topic": self.topic,
        }


@dataclass(frozen=True)
class Assessment:
    verdict: str  # ok | caution | stop
    findings: tuple[Finding, ...]
    checked_chars: int
    truncated: bool = False
    notes: tuple[str, ...] = ()
    scores: dict[str, float] = field(default_factory=dict, compare=False)

    @property
    def categories(self) -> list[str]:
        return sorted({f.category for f in self.findings})

    def to_dict(self) -> dict[str, Any]:
        return {
            "verdict": self.verdict,
            "categories": self.categories,
            "findings": [f.to_dict() for f in self.findings],
            "checked_chars": self.checked_chars,
            "truncated": self.truncated,
            "notes": list(self.notes),
        }


Guarded = tuple[tuple[re.Pattern[str], "frozenset[str] | None"], ...]


@dataclass(frozen=True)
class _Compiled:
    """A rule with, for each pattern, the word prefixes a match must start with."""

    rule: Rule
    patterns: Guarded
    also: Guarded
    unless: Guarded

    @classmethod
    def of(cls, rule: Rule) -> _Compiled:
        def guard(patterns: tuple[re.Pattern[str], ...]) -> Guarded:
            return tuple((p, pattern_prefixes(p)) for p in patterns)

        return cls(rule, guard(rule.patterns), guard(rule.also), guard(rule.unless))


def _search(guarded: Guarded, view: str, present: dict[str, list[int]]) -> re.Match[str] | None:
    for pattern, prefixes in guarded:
        m = search(pattern, prefixes, view, present)
        if m:
            return m
    return None


@dataclass
class _Ruleset:
    rules: tuple[_Compiled, ...]
    model_rules: dict[str, Rule]  # category -> the rule that words model findings


class Checker:
    """Checks drafts against one loaded knowledge base and model."""

    def __init__(self, rules: tuple[Rule, ...], topics: dict[str, Topic], model: Model | None):
        self.topics = topics
        self.model = model
        plain = tuple(_Compiled.of(r) for r in rules if r.detector != "model")
        self.rules = _Ruleset(plain, {r.category: r for r in rules if r.detector == "model"})

    def check(self, text: str, context: CheckContext | None = None) -> Assessment:
        context = context or CheckContext()
        notes: list[str] = []
        truncated = len(text) > MAX_CHARS
        if truncated:
            text = text[:MAX_CHARS]
            notes.append(f"Only the first {MAX_CHARS:,} characters were checked.")
        norm = normalise(text)
        if not norm.words.strip():
            return Assessment("ok", (), len(text), truncated, tuple(notes) + ("There was nothing to check.",))
        cache = DetectorCache(norm)
        findings = self._rule_findings(norm, cache, context)
        verdict = max((f.severity for f in findings), key=SEVERITY_RANK.__getitem__, default="ok")
        scores: dict[str, float] = {}
        # The model judges words; a draft of only emoji or symbols is left to the rules.
        if self.model is not None and _HAS_WORDS.search(norm.words):
            verdict, extra, scores = self._model_findings(norm, context, findings, verdict, cache)
            findings += extra
        if verdict == "ok":
            findings = []
        # Most serious first; a rule's finding (with precise evidence) before the model's.
        findings.sort(key=lambda f: (-SEVERITY_RANK[f.severity], f.rule.startswith("model-"), f.start))
        return Assessment(verdict, tuple(findings), len(text), truncated, tuple(notes), scores)

    # -- rules ----------------------------------------------------------------
    def _rule_findings(self, norm: NormText, cache: DetectorCache, context: CheckContext) -> list[Finding]:
        findings: list[Finding] = []
        seen: set[tuple[str, str]] = set()
        present = word_prefixes(norm.words)
        for compiled in self.rules.rules:
            rule = compiled.rule
            if not rule.when.holds(context.pre_election, context.account):
                continue
            span = _first_match(compiled, norm, cache, present)
            if span is None:
                continue
            if compiled.also and _search(compiled.also, norm.words, present) is None:
                continue
            if _search(compiled.unless, norm.words, present) is not None:
                continue
            key = (rule.category, rule.id)
            if key in seen:
                continue
            seen.add(key)
            findings.append(self._finding(rule, norm, span[0], span[1], rule.severity))
        return _strongest_per_category(findings)

    def _finding(self, rule: Rule, norm: NormText, start: int, end: int, severity: str) -> Finding:
        a, b = norm.span(start, end)
        evidence = norm.original[a:b].strip()
        a = a + (len(norm.original[a:b]) - len(norm.original[a:b].lstrip()))
        return Finding(
            category=rule.category,
            rule=rule.id,
            severity=severity,
            start=a,
            end=a + len(evidence),
            evidence=evidence,
            message=rule.message,
            suggestion=rule.suggestion,
            topic=rule.topic,
        )

    # -- the model -------------------------------------------------------------
    def _model_findings(
        self, norm: NormText, context: CheckContext, findings: list[Finding], verdict: str, cache: DetectorCache
    ) -> tuple[str, list[Finding], dict[str, float]]:
        assert self.model is not None
        head = self.model.drafts
        feats = draft_features(norm, context.pre_election, context.account, cache, findings)
        probs = head.scores(feats)
        scores = {label: float(p) for label, p in zip(head.labels, probs)}
        threshold = dict(zip(head.labels, head.thresholds.tolist()))
        # Thresholds for a category the rules have not named while they named another.
        n = len(head.labels)
        extra = dict(zip(head.labels, head.thresholds[n:].tolist())) if len(head.thresholds) == 2 * n else threshold
        model_verdict = "ok"
        if scores.get("risky", 0.0) >= threshold.get("risky", 0.5):
            model_verdict = "stop" if scores.get("stop", 0.0) >= threshold.get("stop", 0.5) else "caution"
        if SEVERITY_RANK[model_verdict] > SEVERITY_RANK[verdict]:
            verdict = model_verdict
        if verdict == "ok":
            return verdict, [], scores
        have = {f.category for f in findings}
        bar = extra if have else threshold
        categories = [c for c in head.labels if c in self.rules.model_rules and scores[c] >= bar[c] and c not in have]
        if not have and not categories:
            candidates = [c for c in head.labels if c in self.rules.model_rules]
            if candidates:
                categories = [max(candidates, key=scores.__getitem__)]
        severity = model_verdict if model_verdict != "ok" else "caution"
        extra: list[Finding] = []
        for category in categories:
            rule = self.rules.model_rules[category]
            start, end = _best_sentence(norm, head.word_contributions(feats, category))
            extra.append(self._finding(rule, norm, start, end, severity))
        return verdict, extra, scores


def _first_match(
    compiled: _Compiled, norm: NormText, cache: DetectorCache, present: dict[str, list[int]]
) -> tuple[int, int] | None:
    rule = compiled.rule
    if rule.detector:
        hits = cache.hits(rule.detector)
        if hits:
            return hits[0].start, hits[0].end
        if not rule.patterns:
            return None
    m = _search(compiled.patterns, norm.words, present)
    return (m.start(), m.end()) if m else None


def _strongest_per_category(findings: list[Finding]) -> list[Finding]:
    """Keep one finding a category: the most serious, then the earliest."""
    best: dict[str, Finding] = {}
    for f in findings:
        current = best.get(f.category)
        if current is None or SEVERITY_RANK[f.severity] > SEVERITY_RANK[current.severity]:
            best[f.category] = f
    return list(best.values())


_HAS_WORDS = re.compile(r"[a-z]{2,}")
_SENTENCE = re.compile(r"[^.!?\n]+[.!?]*")


def _best_sentence(norm: NormText, contributions: dict[str, float]) -> tuple[int, int]:
    """The sentence whose words push hardest towards the category."""
    best = (0, len(norm.words))
    best_score = float("-inf")
    for m in _SENTENCE.finditer(norm.words):
        if not m.group().strip():
            continue
        words = re.findall(r"[a-z][a-z'*]*[a-z*]|[a-z]|\d+", m.group())
        score = sum(contributions.get(f"w:{w}", 0.0) for w in words)
        score += sum(contributions.get(f"b:{a} {b}", 0.0) for a, b in zip(words, words[1:]))
        if score > best_score:
            best_score = score
            best = (m.start(), m.end())
    return best
