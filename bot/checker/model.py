"""A small linear model shipped with the knowledge base, trained with numpy.

Features are word unigrams and bigrams, character n-grams inside words,
emoji, the context (pre-election, account type) and which shape detectors
fired. Each label (every risk category, plus "risky" and "stop") is a
one-vs-rest logistic regression over those features; question topics use the
same machinery. Training runs in `coach kb train`; at run time the model is
only loaded (a vocabulary and a weight matrix), never downloaded or trained.
"""

from __future__ import annotations

import json
import re
from functools import lru_cache
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from .detectors import DETECTORS
from .text import NormText, normalise

# Bump when features change: a model trained with other features is stale.
FEATURE_VERSION = 5
MODEL_DIR = "model"
WEIGHTS_FILE = "weights.npz"
META_FILE = "meta.json"

_WORD = re.compile(r"[a-z][a-z'*]*[a-z*]|[a-z]|\d+")
_STOP = frozenset(
    "a an the and or but of to in on at for with by from is are was were be been it its this that these those "
    "i me my we our you your he him his she her they them their as so if".split()
)
_SHAPE_DETECTORS = ("postcode", "phone", "mobile", "email", "ni_number", "vehicle_reg", "house_address", "credential")


def _emoji(text: str) -> list[str]:
    return [ch for ch in text if ord(ch) > 0x2000 and unicodedata.category(ch) in ("So", "Sk", "Sm")]


def draft_features(
    norm: NormText,
    pre_election: bool = False,
    account: str = "personal",
    detected: Any = None,
    rule_hits: Any = (),
) -> list[str]:
    """The feature strings of one draft (duplicates removed later).

    `rule_hits` are the rule findings for the draft, so the model learns how far
    to trust each rule and what the rules miss.
    """
    words = [w.strip("'") for w in _WORD.findall(norm.words)]
    words = [w for w in words if w]
    feats = [f"w:{w}" for w in words]
    feats += [f"b:{a} {b}" for a, b in zip(words, words[1:])]
    content = [w for w in words if w not in _STOP]
    feats += [f"s:{a} {b}" for a, b in zip(content, content[1:])]
    # Prefixes stand in for stems ("investigat" covers -ed, -ing, -ion).
    feats += [f"p:{w[:6]}" for w in content if len(w) > 6]
    feats += [f"e:{e}" for e in _emoji(norm.original)]
    if pre_election:
        feats.append("x:pre_election")
    feats.append(f"x:account={account}")
    for name in _SHAPE_DETECTORS:
        if (detected.hits(name) if detected is not None else DETECTORS[name](norm)):
            feats.append(f"d:{name}")
    if "?" in norm.plain:
        feats.append("x:question")
    for hit in rule_hits:
        feats += [f"r:{hit.category}", f"r:{hit.category}:{hit.severity}", f"rid:{hit.rule}"]
    if not words:
        feats.append("x:empty")
    return feats


def question_features(text: str) -> list[str]:
    norm = normalise(text)
    words = [w.strip("'") for w in _WORD.findall(norm.words)]
    words = [w for w in words if w]
    content = [stem(w) for w in words if w not in _STOP]
    feats = [f"w:{w}" for w in content]
    feats += [f"b:{a} {b}" for a, b in zip(words, words[1:])]
    feats += [f"s:{a} {b}" for a, b in zip(content, content[1:])]
    for w in set(words):
        if len(w) < 4:
            continue
        padded = f" {w} "
        feats += [f"c:{padded[i:i + 4]}" for i in range(len(padded) - 3)]
    return feats


_SUFFIXES = ("ations", "ation", "ments", "ment", "ings", "ing", "ers", "ies", "ied", "ed", "es", "er", "ly", "s")


@lru_cache(maxsize=20000)
def stem(word: str) -> str:
    """A light English stemmer: enough to match 'sharing' with 'share'."""
    for suffix in _SUFFIXES:
        if len(word) - len(suffix) >= 3 and word.endswith(suffix):
            base = word[: -len(suffix)]
            if suffix in ("ies", "ied"):
                return base + "y"
            if suffix in ("ing", "ed", "er", "es", "ers", "ings") and len(base) > 2 and base[-1] == base[-2]:
                base = base[:-1]
            return base.rstrip("e") if suffix not in ("s",) else base
    return word.rstrip("e") if len(word) > 3 else word


# -- sparse rows ------------------------------------------------------------
@dataclass
class Rows:
    """A tiny CSR matrix of binary features, each row scaled to unit length."""

    indptr: np.ndarray
    indices: np.ndarray
    values: np.ndarray

    @property
    def n_rows(self) -> int:
        return len(self.indptr) - 1

    @classmethod
    def build(cls, docs: list[list[str]], vocab: dict[str, int]) -> Rows:
        indptr = [0]
        indices: list[int] = []
        values: list[float] = []
        for feats in docs:
            idx = sorted({vocab[f] for f in feats if f in vocab})
            if idx:
                scale = 1.0 / np.sqrt(len(idx))
                indices.extend(idx)
                values.extend([scale] * len(idx))
            indptr.append(len(indices))
        return cls(np.asarray(indptr, np.int64), np.asarray(indices, np.int64), np.asarray(values, np.float32))

    def take(self, rows: np.ndarray) -> Rows:
        parts_i, parts_v, ptr = [], [], [0]
        for r in rows:
            a, b = self.indptr[r], self.indptr[r + 1]
            parts_i.append(self.indices[a:b])
            parts_v.append(self.values[a:b])
            ptr.append(ptr[-1] + (b - a))
        return Rows(
            np.asarray(ptr, np.int64),
            np.concatenate(parts_i) if parts_i else np.zeros(0, np.int64),
            np.concatenate(parts_v) if parts_v else np.zeros(0, np.float32),
        )

    def dot(self, weights: np.ndarray, bias: np.ndarray) -> np.ndarray:
        out = np.tile(bias, (self.n_rows, 1)).astype(np.float32)
        if len(self.indices):
            contrib = weights[self.indices] * self.values[:, None]
            nonempty = np.flatnonzero(np.diff(self.indptr) > 0)
            sums = np.add.reduceat(contrib, self.indptr[nonempty], axis=0)
            out[nonempty] += sums
        return out


def sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-np.clip(x, -30, 30)))


def fit_logistic(
    rows: Rows,
    targets: np.ndarray,
    n_features: int,
    *,
    l2: float = 1e-4,
    epochs: int = 150,
    lr: float = 0.1,
    pos_weight: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """One-vs-rest logistic regressions, full batch, Adam. Returns (W, b)."""
    n, k = targets.shape
    w = np.zeros((n_features, k), np.float32)
    b = np.zeros(k, np.float32)
    pw = np.ones(k, np.float32) if pos_weight is None else pos_weight.astype(np.float32)
    sample_w = np.where(targets > 0, pw, 1.0).astype(np.float32)
    norm = sample_w.sum(axis=0)
    # The transpose, for the gradient: group non-zeros by feature.
    row_of = np.repeat(np.arange(n), np.diff(rows.indptr))
    order = np.argsort(rows.indices, kind="stable")
    feat_sorted = rows.indices[order]
    row_sorted = row_of[order]
    val_sorted = rows.values[order]
    starts = np.flatnonzero(np.r_[True, feat_sorted[1:] != feat_sorted[:-1]]) if len(feat_sorted) else np.zeros(0, np.int64)
    feats_present = feat_sorted[starts] if len(feat_sorted) else np.zeros(0, np.int64)
    m_w = np.zeros_like(w)
    v_w = np.zeros_like(w)
    m_b = np.zeros_like(b)
    v_b = np.zeros_like(b)
    beta1, beta2, eps = 0.9, 0.999, 1e-8
    for step in range(1, epochs + 1):
        p = sigmoid(rows.dot(w, b))
        err = (p - targets) * sample_w / norm  # (n, k)
        grad_w = np.zeros_like(w)
        if len(feat_sorted):
            contrib = err[row_sorted] * val_sorted[:, None]
            grad_w[feats_present] = np.add.reduceat(contrib, starts, axis=0)
        grad_w += l2 * w
        grad_b = err.sum(axis=0)
        m_w = beta1 * m_w + (1 - beta1) * grad_w
        v_w = beta2 * v_w + (1 - beta2) * grad_w * grad_w
        m_b = beta1 * m_b + (1 - beta1) * grad_b
        v_b = beta2 * v_b + (1 - beta2) * grad_b * grad_b
        corr1 = 1 - beta1**step
        corr2 = 1 - beta2**step
        w -= lr * (m_w / corr1) / (np.sqrt(v_w / corr2) + eps)
        b -= lr * (m_b / corr1) / (np.sqrt(v_b / corr2) + eps)
    return w, b


def build_vocab(docs: list[list[str]], min_df: int = 2) -> dict[str, int]:
    df: dict[str, int] = {}
    for feats in docs:
        for f in set(feats):
            df[f] = df.get(f, 0) + 1
    kept = sorted(f for f, c in df.items() if c >= min_df or f.startswith(("x:", "d:", "r:", "rid:")))
    return {f: i for i, f in enumerate(kept)}


# -- the shipped model --------------------------------------------------------
@dataclass
class LinearHead:
    """One set of labels over one vocabulary."""

    vocab: dict[str, int]
    weights: np.ndarray  # (n_features, n_labels)
    bias: np.ndarray
    labels: tuple[str, ...]
    thresholds: np.ndarray

    def scores(self, feats: list[str]) -> np.ndarray:
        idx = {self.vocab[f] for f in feats if f in self.vocab}
        if not idx:
            return sigmoid(self.bias.astype(np.float64))
        rows = list(idx)
        logits = self.weights[rows].sum(axis=0, dtype=np.float64) / np.sqrt(len(rows)) + self.bias
        return sigmoid(logits)

    def word_contributions(self, feats: list[str], label: str) -> dict[str, float]:
        """How much each word feature pushes towards a label (for evidence)."""
        col = self.labels.index(label)
        present = {f for f in feats if f in self.vocab and f.startswith(("w:", "b:", "s:"))}
        scale = 1.0 / np.sqrt(max(1, len({f for f in feats if f in self.vocab})))
        return {f: float(self.weights[self.vocab[f], col]) * scale for f in present}


@dataclass
class Model:
    drafts: LinearHead
    questions: LinearHead | None
    meta: dict[str, Any]

    @property
    def digest(self) -> str:
        return str(self.meta.get("training_digest", ""))

    def is_stale(self, digest: str, rules_digest: str | None = None) -> bool:
        if rules_digest is not None and self.meta.get("rules_digest") != rules_digest:
            return True
        return self.digest != digest or self.meta.get("feature_version") != FEATURE_VERSION


def save_model(directory: Path, model: Model) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    arrays: dict[str, np.ndarray] = {}
    for name, head in (("drafts", model.drafts), ("questions", model.questions)):
        if head is None:
            continue
        vocab = sorted(head.vocab, key=head.vocab.__getitem__)
        arrays[f"{name}_vocab"] = np.asarray(vocab)
        arrays[f"{name}_weights"] = head.weights.astype(np.float16)
        arrays[f"{name}_bias"] = head.bias.astype(np.float32)
        arrays[f"{name}_labels"] = np.asarray(head.labels)
        arrays[f"{name}_thresholds"] = head.thresholds.astype(np.float32)
    tmp = directory / (WEIGHTS_FILE + ".tmp.npz")
    np.savez_compressed(tmp, **arrays)  # type: ignore[arg-type]
    tmp.replace(directory / WEIGHTS_FILE)
    (directory / META_FILE).write_text(json.dumps(model.meta, indent=2, sort_keys=True) + "\n", encoding="utf-8")


def load_model(directory: Path) -> Model | None:
    """The model in `directory`, or None when there is none."""
    weights = directory / WEIGHTS_FILE
    meta_path = directory / META_FILE
    if not weights.is_file() or not meta_path.is_file():
        return None
    meta = json.loads(meta_path.read_text(encoding="utf-8"))
    with np.load(weights, allow_pickle=False) as data:
        heads: dict[str, LinearHead] = {}
        for name in ("drafts", "questions"):
            if f"{name}_vocab" not in data:
                continue
            vocab_list = data[f"{name}_vocab"].tolist()
            heads[name] = LinearHead(
                vocab={f: i for i, f in enumerate(vocab_list)},
                weights=data[f"{name}_weights"].astype(np.float32),
                bias=data[f"{name}_bias"].astype(np.float32),
                labels=tuple(data[f"{name}_labels"].tolist()),
                thresholds=data[f"{name}_thresholds"].astype(np.float32),
            )
    if "drafts" not in heads:
        return None
    return Model(heads["drafts"], heads.get("questions"), meta)


def rules_digest(rules: Any) -> str:
    """A fingerprint of the rules, whose findings are model features."""
    import hashlib

    h = hashlib.sha256()
    for rule in rules:
        parts = [rule.id, rule.category, rule.severity, rule.detector, str(rule.when)]
        parts += [p.pattern for p in rule.patterns + rule.also + rule.unless]
        h.update("\0".join(parts).encode() + b"\1")
    return h.hexdigest()[:20]
