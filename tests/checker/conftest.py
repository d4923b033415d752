from __future__ import annotations

import pytest

from bot.checker import Built, build
from bot.config import packaged_knowledge_dir
from bot.guidance import load_knowledge


@pytest.fixture(scope="session")
def engines() -> Built:
    """The shipped knowledge base, rules and model, loaded once for the checker tests."""
    return build(load_knowledge(packaged_knowledge_dir()))


@pytest.fixture(scope="session")
def rules_only() -> Built:
    return build(load_knowledge(packaged_knowledge_dir()), use_model=False)
