"""The draft checker and guidance Q&A, built from one loaded knowledge base.

`Engines` builds the checker and the answerer for a knowledge base and keeps
them until the knowledge base in use changes (after a reload), so indexing
happens once per load rather than once per message.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path

from ..config import packaged_knowledge_dir
from ..guidance import Knowledge
from .answers import Answer, Answerer
from .engine import MAX_CHARS, Assessment, CheckContext, Checker, Finding
from .model import MODEL_DIR, Model, load_model

__all__ = [
    "MAX_CHARS",
    "Answer",
    "Answerer",
    "Assessment",
    "CheckContext",
    "Checker",
    "Engines",
    "Finding",
    "build",
    "model_dir_for",
]


def model_dir_for(knowledge_root: Path) -> Path:
    """Where a knowledge base's model lives: its own model/, else the packaged one."""
    own = Path(knowledge_root) / MODEL_DIR
    if (own / "meta.json").is_file():
        return own
    return packaged_knowledge_dir() / MODEL_DIR


@dataclass(frozen=True)
class Built:
    knowledge: Knowledge
    checker: Checker
    answerer: Answerer
    model: Model | None


def build(knowledge: Knowledge, model: Model | None = None, *, use_model: bool = True) -> Built:
    if model is None and use_model:
        model = load_model(model_dir_for(knowledge.root))
    checker = Checker(knowledge.section("rules"), knowledge.section("topics"), model)
    answerer = Answerer(knowledge, model)
    return Built(knowledge, checker, answerer, model)


class Engines:
    """The checker and answerer for whatever knowledge base is current."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._built: Built | None = None

    def for_knowledge(self, knowledge: Knowledge) -> Built:
        built = self._built
        if built is not None and built.knowledge is knowledge:
            return built
        with self._lock:
            if self._built is None or self._built.knowledge is not knowledge:
                self._built = build(knowledge)
            return self._built
