"""The core stays platform-neutral, and botbuilder stays inside adapters/teams."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PLATFORM_MODULES = {"slack_bolt", "slack_sdk", "botbuilder", "aiohttp", "adapters"}


def imported_roots(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    roots: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            roots.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            roots.add(node.module.split(".")[0])
    return roots


def test_nothing_under_bot_imports_a_platform_sdk() -> None:
    files = sorted((ROOT / "bot").rglob("*.py"))
    assert len(files) > 10, "the scan must see the core"
    offenders = {
        str(f.relative_to(ROOT)): sorted(imported_roots(f) & PLATFORM_MODULES)
        for f in files
        if imported_roots(f) & PLATFORM_MODULES
    }
    assert offenders == {}


def test_botbuilder_is_imported_only_inside_adapters_teams() -> None:
    offenders = [
        str(f.relative_to(ROOT))
        for top in ("bot", "adapters", "tests")
        for f in (ROOT / top).rglob("*.py")
        if "botbuilder" in imported_roots(f)
        and not f.is_relative_to(ROOT / "adapters" / "teams")
        and not f.is_relative_to(ROOT / "tests" / "adapters" / "teams")
    ]
    assert offenders == []


def test_the_scan_notices_a_forbidden_import(tmp_path: Path) -> None:
    bad = tmp_path / "bad.py"
    bad.write_text("import os\nfrom slack_bolt import App\nimport aiohttp.web\n")
    assert imported_roots(bad) & PLATFORM_MODULES == {"slack_bolt", "aiohttp"}
