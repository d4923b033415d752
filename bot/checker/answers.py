"""Guidance Q&A: ranked retrieval over topics and FAQs, plus a topic classifier.

Retrieval is BM25 over each FAQ's question, paraphrases and keywords and each
topic's title, keywords and text, with light stemming and a few synonyms. A
small classifier trained on labelled questions (see model.py) votes on the
topic too. When neither is confident the answer says so and points to the
Monitoring Officer instead of guessing.
"""

from __future__ import annotations

import math
import re
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..guidance import Knowledge
from ..kb_sections import Faq, Topic
from .model import Model, question_features, stem
from .text import normalise

_TOKEN = re.compile(r"[a-z][a-z'-]*[a-z]|[a-z0-9]+")
_STOP = frozenset(
    """a about above after again all am an and any are aren't as at be been before being below between both but
    by can can't could couldn't did didn't do does doesn't doing don't down during each few for from further had
    hasn't have haven't having he her here hers herself him himself his how i i'd i'm i've if in into is isn't it
    it's its itself just let's me more most my myself no nor not of off on once only or other ought our ours
    ourselves out over own same shall she should shouldn't so some such than that that's the their theirs them
    themselves then there there's these they they're this those through to too under until up very was wasn't we
    we're were weren't what what's when where which while who whom why will with won't would wouldn't you you're
    your yours yourself ok okay alright allowed fine really still also get got want need someone something
    anything thing things way much many one""".split()
)
# Everyday words for the same thing; each group is treated as one term.
SYNONYMS: tuple[tuple[str, ...], ...] = (
    ("purdah", "pre-election", "preelection", "election", "campaign", "campaigning", "candidate", "by-election"),
    ("libel", "libellous", "defamation", "defamatory", "slander", "defame"),
    ("retweet", "repost", "share", "reshare", "forward"),
    ("photo", "photograph", "picture", "pic", "image", "selfie", "snap"),
    ("block", "ban", "mute", "restrict"),
    ("troll", "trolls", "abuse", "abusive", "harass", "harassment", "threat"),
    ("logo", "crest", "branding", "brand"),
    ("password", "login", "log-in", "passcode", "hacked", "hack"),
    ("2fa", "two-factor", "two-step", "mfa", "authenticator"),
    ("confidential", "exempt", "part", "private", "secret", "closed"),
    ("gdpr", "data", "personal", "privacy"),
    ("disclaimer", "views", "own"),
    ("holiday", "away", "leave", "absence", "vacation"),
    ("copyright", "copy", "licence", "license", "permission"),
    ("fake", "misinformation", "disinformation", "rumour", "hoax", "unverified"),
    ("predetermination", "predetermined", "bias", "biased", "closed-mind", "prejudge"),
    ("interest", "interests", "declare", "declaration"),
    ("swear", "swearing", "profanity", "language", "crude"),
    ("argue", "argument", "row", "spat", "debate", "heated"),
    ("ipad", "laptop", "tablet", "phone", "device", "mobile"),
)
_SYN: dict[str, str] = {}
for _group in SYNONYMS:
    for _word in _group:
        _SYN[stem(_word)] = stem(_group[0])


def terms(text: str) -> list[str]:
    out = []
    for tok in _TOKEN.findall(normalise(text).plain):
        tok = tok.strip("'-")
        if not tok or tok in _STOP:
            continue
        s = stem(tok)
        out.append(s)
        canon = _SYN.get(s)
        if canon and canon != s:
            out.append(canon)
    return out


@dataclass(frozen=True)
class Answer:
    question: str
    topic: str  # a risk category or practice topic
    title: str
    answer: str
    confidence: float
    sources: tuple[str, ...]
    is_unsure: bool = False
    faq_id: str = ""
    topic_id: str = ""
    ask_who: str = ""
    read_more: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "topic": self.topic,
            "title": self.title,
            "answer": self.answer,
            "confidence": round(self.confidence, 3),
            "sources": list(self.sources),
        }


@dataclass(frozen=True)
class _Doc:
    kind: str  # faq | topic
    id: str
    category: str
    weights: dict[str, float]
    length: float


class Answerer:
    K1 = 1.4
    B = 0.6
    UNSURE_BELOW = 0.30
    MIN_COVERAGE = 0.6

    def __init__(self, knowledge: Knowledge, model: Model | None):
        self.knowledge = knowledge
        self.topics: dict[str, Topic] = knowledge.section("topics")
        self.faqs: dict[str, Faq] = knowledge.section("faqs")
        self.head = model.questions if model is not None else None
        self.docs = [self._faq_doc(f) for f in self.faqs.values()] + [self._topic_doc(t) for t in self.topics.values()]
        self.avg_len = sum(d.length for d in self.docs) / max(1, len(self.docs))
        df: dict[str, int] = defaultdict(int)
        for d in self.docs:
            for term in d.weights:
                df[term] += 1
        n = len(self.docs)
        self.idf = {t: math.log(1 + (n - c + 0.5) / (c + 0.5)) for t, c in df.items()}
        self.postings: dict[str, list[int]] = defaultdict(list)
        for i, d in enumerate(self.docs):
            for term in d.weights:
                self.postings[term].append(i)

    @staticmethod
    def _bag(parts: list[tuple[str, float]]) -> tuple[dict[str, float], float]:
        weights: dict[str, float] = defaultdict(float)
        length = 0.0
        for text, weight in parts:
            for term in terms(text):
                weights[term] += weight
                length += weight
        return dict(weights), length

    def _faq_doc(self, faq: Faq) -> _Doc:
        parts = [(faq.question, 3.0), (" ".join(faq.keywords), 2.0), (faq.answer, 0.5)]
        parts += [(v, 1.5) for v in faq.variants]
        weights, length = self._bag(parts)
        return _Doc("faq", faq.id, faq.category, weights, length)

    def _topic_doc(self, topic: Topic) -> _Doc:
        parts = [(topic.title, 3.0), (" ".join(topic.keywords), 2.0), (topic.summary, 1.0)]
        parts += [(topic.instead, 0.5), (topic.why, 0.3)]
        parts += [(r, 0.3) for r in topic.risky + topic.safer]
        weights, length = self._bag(parts)
        return _Doc("topic", topic.id, topic.category, weights, length)

    def retrieve(self, question: str) -> list[tuple[float, _Doc]]:
        query = terms(question)
        scores: dict[int, float] = defaultdict(float)
        for term in set(query):
            idf = self.idf.get(term)
            if idf is None:
                continue
            for i in self.postings[term]:
                d = self.docs[i]
                tf = d.weights[term]
                scores[i] += idf * tf * (self.K1 + 1) / (tf + self.K1 * (1 - self.B + self.B * d.length / self.avg_len))
        ranked = sorted(((s, self.docs[i]) for i, s in scores.items()), key=lambda x: -x[0])
        return ranked

    def ask(self, question: str) -> Answer:
        question = question.strip()[:1000]
        ranked = self.retrieve(question)
        categories = sorted(set(self.knowledge.vocabulary.all) | {d.category for d in self.docs})
        retrieval: dict[str, float] = {c: 0.0 for c in categories}
        best_doc: dict[str, _Doc] = {}
        top = ranked[0][0] if ranked else 0.0
        for score, doc in ranked:
            if doc.category not in best_doc:
                best_doc[doc.category] = doc
                retrieval[doc.category] = score / top if top > 0 else 0.0
        classifier = self._classify(question)
        combined: dict[str, float] = {}
        for c in categories:
            if classifier:
                combined[c] = 0.55 * classifier.get(c, 0.0) + 0.45 * retrieval.get(c, 0.0)
            else:
                combined[c] = retrieval.get(c, 0.0)
        category = max(combined, key=combined.__getitem__) if combined else ""
        # Confidence: how strongly retrieval matched at all, and how clearly one topic won.
        strength = 1.0 - math.exp(-top / 6.0)
        cls_conf = classifier.get(category, 0.0) if classifier else strength
        confidence = float(min(1.0, 0.5 * strength + 0.5 * cls_conf)) if category else 0.0
        doc = best_doc.get(category)
        # Most of a question's words should be words the guidance uses; if not, it is
        # probably about something else entirely, however sure the classifier is.
        query = set(terms(question))
        coverage = sum(1 for t in query if t in self.idf) / len(query) if query else 0.0
        if coverage < self.MIN_COVERAGE:
            confidence = min(confidence, coverage)
        if doc is None or confidence < self.UNSURE_BELOW:
            return self._unsure(question, category, confidence)
        return self._answer(question, category, doc, confidence)

    def _classify(self, question: str) -> dict[str, float]:
        if self.head is None:
            return {}
        probs = self.head.scores(question_features(question))
        total = float(np.sum(probs)) or 1.0
        return {label: float(p) / total for label, p in zip(self.head.labels, probs)}

    def _answer(self, question: str, category: str, doc: _Doc, confidence: float) -> Answer:
        council = self.knowledge.council
        if doc.kind == "faq":
            faq = self.faqs[doc.id]
            topic = self.topics.get(faq.topic)
            text = faq.answer
            sources = (faq.id,) + ((topic.id,) if topic else ())
            title = topic.title if topic else faq.question
            ask_who = topic.ask if topic else ""
            topic_id = topic.id if topic else ""
            faq_id = faq.id
        else:
            topic = self.topics[doc.id]
            text = f"{topic.summary} {topic.instead}".strip()
            sources = (topic.id,)
            title = topic.title
            ask_who = topic.ask
            topic_id = topic.id
            faq_id = ""
        return Answer(
            question=question,
            topic=category,
            title=title,
            answer=text,
            confidence=confidence,
            sources=sources,
            faq_id=faq_id,
            topic_id=topic_id,
            ask_who=ask_who,
            read_more=council.protocol_url,
        )

    def _unsure(self, question: str, category: str, confidence: float) -> Answer:
        council = self.knowledge.council
        text = (
            f"I'm not sure — ask your Monitoring Officer ({council.monitoring_officer_contact})."
            if council.monitoring_officer_contact
            else "I'm not sure — ask your Monitoring Officer."
        )
        return Answer(
            question=question,
            topic=category,
            title="Not sure",
            answer=text,
            confidence=confidence,
            sources=(),
            is_unsure=True,
            read_more=council.protocol_url,
        )

    def faqs_for(self, category: str) -> list[Faq]:
        return [f for f in self.faqs.values() if f.category == category]

    def from_faq(self, faq_id: str) -> Answer | None:
        faq = self.faqs.get(faq_id)
        if faq is None:
            return None
        doc = next(d for d in self.docs if d.kind == "faq" and d.id == faq_id)
        return self._answer(faq.question, faq.category, doc, 1.0)
