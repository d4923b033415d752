"""`coach teams package`: a zip Teams accepts — manifest fields and icon sizes checked."""

from __future__ import annotations

import json
import os
import re
import struct
import subprocess
import sys
import zipfile
import zlib
from pathlib import Path

import pytest

from adapters.teams.package import PackageOptions, manifest
from bot.errors import BadInput

APP_ID = "1B2C3D4E-0000-4000-8000-00000000ABCD"


def run_cli(args: list[str], tmp_path: Path) -> subprocess.CompletedProcess[str]:
    environ = {k: v for k, v in os.environ.items() if not k.startswith(("COACH_", "Microsoft"))}
    environ["COACH_DATA_DIR"] = str(tmp_path)
    return subprocess.run(
        [sys.executable, "-c", "import sys; from adapters.cli import main; sys.exit(main())", *args],
        capture_output=True, text=True, env=environ, timeout=120,
    )


def read_png(data: bytes) -> tuple[int, int, list[tuple[int, int, int, int]]]:
    """Width, height and RGBA pixels of an 8-bit RGBA PNG, decoded independently of our writer."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, chunks = 8, {}
    idat = b""
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        kind = data[pos + 4 : pos + 8]
        body = data[pos + 8 : pos + 8 + length]
        (crc,) = struct.unpack(">I", data[pos + 8 + length : pos + 12 + length])
        assert zlib.crc32(kind + body) & 0xFFFFFFFF == crc, kind
        chunks[kind] = body
        if kind == b"IDAT":
            idat += body
        pos += 12 + length
    assert b"IEND" in chunks
    width, height, depth, colour_type, _, _, interlace = struct.unpack(">IIBBBBB", chunks[b"IHDR"])
    assert (depth, colour_type, interlace) == (8, 6, 0)
    raw = zlib.decompress(idat)
    stride = width * 4 + 1
    pixels = []
    for row in range(height):
        line = raw[row * stride : (row + 1) * stride]
        assert line[0] == 0  # unfiltered rows
        pixels += [tuple(line[1 + i * 4 : 5 + i * 4]) for i in range(width)]
    return width, height, pixels  # type: ignore[return-value]


def test_the_cli_writes_a_package_teams_accepts(tmp_path: Path) -> None:
    out = tmp_path / "coach-teams.zip"
    result = run_cli(["teams", "package", "--app-id", APP_ID, "--out", str(out), "--domain", "coach.anytown.gov.uk"], tmp_path)
    assert result.returncode == 0, result.stderr
    assert "wrote" in result.stdout and "check before uploading" in result.stdout

    with zipfile.ZipFile(out) as archive:
        assert sorted(archive.namelist()) == ["color.png", "manifest.json", "outline.png"]  # all at the root
        data = json.loads(archive.read("manifest.json"))
        color = read_png(archive.read("color.png"))
        outline = read_png(archive.read("outline.png"))

    assert data["$schema"].endswith("/v1.17/MicrosoftTeams.schema.json") and data["manifestVersion"] == "1.17"
    assert re.fullmatch(r"\d+\.\d+\.\d+", data["version"])
    assert data["id"] == APP_ID.lower()
    developer = data["developer"]
    assert developer["name"] == "Anytown Borough Council"
    for key in ("websiteUrl", "privacyUrl", "termsOfUseUrl"):
        assert developer[key].startswith("https://www.example.gov.uk")
    assert len(data["name"]["short"]) <= 30 and len(data["name"]["full"]) <= 100
    assert len(data["description"]["short"]) <= 80 and len(data["description"]["full"]) <= 4000
    assert data["icons"] == {"color": "color.png", "outline": "outline.png"}
    assert re.fullmatch(r"#[0-9A-Fa-f]{6}", data["accentColor"])
    (bot,) = data["bots"]
    assert bot["botId"] == APP_ID.lower()
    assert bot["scopes"] == ["personal", "team", "groupChat"]
    personal, shared = bot["commandLists"]
    assert personal["scopes"] == ["personal"] and shared["scopes"] == ["team", "groupChat"]
    for command_list in bot["commandLists"]:
        assert 1 <= len(command_list["commands"]) <= 10
        for command in command_list["commands"]:
            assert 1 <= len(command["title"]) <= 32 and 1 <= len(command["description"]) <= 128
    assert {"help", "check", "ask", "quiz"} <= {c["title"] for c in personal["commands"]}
    assert "broadcast" not in {c["title"] for c in personal["commands"]}  # officer-only commands stay off the menu
    assert data["validDomains"] == ["coach.anytown.gov.uk"]
    assert set(data["permissions"]) <= {"identity", "messageTeamMembers"}

    width, height, pixels = color
    assert (width, height) == (192, 192) and len(pixels) == 192 * 192
    assert len(set(pixels)) > 2 and all(p[3] == 255 for p in pixels)  # full colour, opaque
    width, height, pixels = outline
    assert (width, height) == (32, 32)
    # White on transparent: every pixel is white and either opaque or fully transparent.
    assert set(pixels) == {(255, 255, 255, 255), (255, 255, 255, 0)}
    assert 50 < sum(p[3] == 255 for p in pixels) < 32 * 32 // 2


def test_packages_are_reproducible(tmp_path: Path) -> None:
    first, second = tmp_path / "a.zip", tmp_path / "b.zip"
    for out in (first, second):
        assert run_cli(["teams", "package", "--app-id", APP_ID, "--out", str(out)], tmp_path).returncode == 0
    assert first.read_bytes() == second.read_bytes()


def test_bad_options_are_named_together_on_one_line(tmp_path: Path) -> None:
    result = run_cli(
        ["teams", "package", "--app-id", "not-a-guid", "--website", "http://insecure.example", "--domain",
         "https://coach.example.gov.uk", "--out", str(tmp_path / "x.zip")],
        tmp_path,
    )
    assert result.returncode == 1
    (line,) = result.stderr.strip().splitlines()
    assert "--app-id" in line and "--website" in line and "--domain" in line
    assert "Traceback" not in result.stderr and not (tmp_path / "x.zip").exists()


def test_the_manifest_follows_explicit_publisher_details() -> None:
    data = manifest(PackageOptions(
        app_id=APP_ID, teams_app_id="AAAAAAAA-BBBB-4CCC-8DDD-EEEEEEEEEEEE", developer_name="Digital Team",
        website_url="https://anytown.gov.uk", privacy_url="https://anytown.gov.uk/p", terms_url="https://anytown.gov.uk/t",
        version="2.3.4",
    ))
    assert data["id"] == "aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee" and data["bots"][0]["botId"] == APP_ID.lower()
    assert data["version"] == "2.3.4" and data["developer"]["privacyUrl"] == "https://anytown.gov.uk/p"
    with pytest.raises(BadInput, match="--version"):
        manifest(PackageOptions(APP_ID, "Digital Team", "https://a.gov.uk", "https://a.gov.uk/p", "https://a.gov.uk/t", version="1.0"))
