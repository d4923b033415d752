"""`coach kb reload` and the server's SIGHUP handler keep the last good knowledge base."""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
from pathlib import Path
from types import SimpleNamespace

import pytest

from adapters.cli import main
from adapters.cli.kb import install_sighup_reload
from bot.config import packaged_knowledge_dir
from bot.guidance import KnowledgeStore


def copy_kb(root: Path) -> Path:
    shutil.copytree(packaged_knowledge_dir(), root, ignore=shutil.ignore_patterns("model", "__pycache__"))
    return root


def test_reload_signals_the_server_named_in_the_pid_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    received: list[int] = []
    previous = signal.signal(signal.SIGHUP, lambda signum, frame: received.append(signum))
    try:
        (tmp_path / "coach.pid").write_text(str(os.getpid()), encoding="utf-8")
        monkeypatch.setenv("COACH_DATA_DIR", str(tmp_path))
        assert main(["kb", "reload"]) == 0
    finally:
        signal.signal(signal.SIGHUP, previous)
    assert received == [signal.SIGHUP]
    assert f"asked the server (pid {os.getpid()})" in capsys.readouterr().out


def test_reload_without_a_server_only_validates(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("COACH_DATA_DIR", str(tmp_path))
    assert main(["kb", "reload"]) == 0
    assert "no running server found" in capsys.readouterr().out


def test_reload_refuses_a_broken_knowledge_base(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    kb = copy_kb(tmp_path / "kb")
    (kb / "rules" / "zz.yaml").write_text("rules:\n  - id: zz\n    category: nope\n", encoding="utf-8")
    monkeypatch.setenv("COACH_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("COACH_KNOWLEDGE_DIR", str(kb))
    assert main(["kb", "reload"]) == 1
    assert "rules/zz.yaml:3: unknown category 'nope'" in capsys.readouterr().err


async def test_sighup_reloads_and_keeps_the_last_good(tmp_path: Path) -> None:
    kb = copy_kb(tmp_path / "kb")
    store = KnowledgeStore(kb)
    coach = SimpleNamespace(knowledge=store)
    first = store.current
    assert install_sighup_reload(coach)
    try:
        rules = kb / "rules" / "zz.yaml"
        rules.write_text("rules:\n  - id: zz\n    category: nope\n", encoding="utf-8")
        os.kill(os.getpid(), signal.SIGHUP)
        await asyncio.sleep(0)  # let the loop run the handler (no schedule involved)
        await asyncio.sleep(0)
        assert store.current is first  # broken: the last good one stays
        rules.unlink()
        os.kill(os.getpid(), signal.SIGHUP)
        for _ in range(5):
            await asyncio.sleep(0)
        assert store.current is not first
    finally:
        asyncio.get_running_loop().remove_signal_handler(signal.SIGHUP)
