"""`coach serve` as an operator runs it: pid file, SIGHUP reload, the auth-off warning."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path


def test_serve_writes_a_pid_file_reloads_on_sighup_and_warns_when_teams_is_open(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("COACH_", "SLACK_", "Microsoft"))}
    env.update(COACH_DATA_DIR=str(tmp_path), COACH_LOG_LEVEL="INFO")
    proc = subprocess.Popen(
        [sys.executable, "-c", "import sys; from adapters.cli import main; sys.exit(main())",
         "serve", "teams", "--host", "0.0.0.0", "--port", "0", "--no-worker"],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    try:
        pid_file = tmp_path / "coach.pid"
        deadline = time.monotonic() + 60
        while not pid_file.exists() and time.monotonic() < deadline and proc.poll() is None:
            time.sleep(0.1)  # waiting for a real process to start, not for a schedule
        assert pid_file.read_text().strip() == str(proc.pid)
        reload = subprocess.run(
            [sys.executable, "-c", "import sys; from adapters.cli import main; sys.exit(main())", "kb", "reload"],
            env=env, capture_output=True, text=True, timeout=60,
        )
        assert reload.returncode == 0, reload.stderr
        assert f"pid {proc.pid}" in reload.stdout
        time.sleep(0.5)
        assert proc.poll() is None, "SIGHUP must reload, not stop the server"
    finally:
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0
    assert "Teams authentication is off" in err
    assert "knowledge base reloaded" in err
    assert not pid_file.exists()
