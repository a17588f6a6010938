"""The `pipeline` command line: help on every verb, one-line errors, the mock's clock and server.

Each test runs the installed console script in a subprocess (not a TTY), as CI or cron would.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import orjson
import pytest
import requests

BIN = Path(sys.executable).parent
VERBS = [
    "run",
    "up",
    "prepare",
    "serve-mock",
    "advance",
    "sync",
    "lake",
    "transform",
    "check",
    "report",
    "sql",
    "summary",
]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def pipeline(*args: str, env: dict[str, str] | None = None, timeout: float = 300):
    return subprocess.run(
        [str(BIN / "pipeline"), *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, **(env or {})},
    )


def test_every_verb_has_help():
    listed = pipeline("--help")
    assert listed.returncode == 0
    for verb in VERBS:
        assert verb in listed.stdout, verb
        done = pipeline(verb, "--help")
        assert done.returncode == 0, (verb, done.stderr)
        assert "Usage:" in done.stdout and "--help" in done.stdout, verb


@pytest.mark.parametrize(
    ("args", "env", "names"),
    [
        (["advance", "--days", "0"], {}, "--days"),
        (["run", "--scale", "3"], {}, "--scale"),
        (["sync", "nowhere"], {}, "mailchimp, hubspot, mailchimp_events"),
        (["sync"], {}, "connection"),
        (["check", "everything"], {}, "all, raw, lake or marts"),
        (["no-such-verb"], {}, "no-such-verb"),
        (["summary"], {"MOCK_PORT": "eighty"}, "MOCK_PORT"),
        (["sql", "select 1"], {"PIPELINE_DATA_DIR": "/nonexistent/pipeline"}, "no warehouse"),
    ],
)
def test_a_bad_argument_or_config_is_one_line_naming_what_to_fix(args, env, names):
    done = pipeline(*args, env=env)
    assert done.returncode != 0
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith("error: ") and names in lines[0], lines[0]
    assert "Traceback" not in done.stderr


def test_advance_moves_the_running_mock_clock(mock_api_server):
    with mock_api_server(7, 50) as api:
        port = api.url.rsplit(":", 1)[1]
        done = pipeline("advance", "--days", "3", env={"MOCK_PORT": port})
        assert done.returncode == 0, done.stderr
        assert done.stdout.strip() == "now 2026-06-04T00:00:00+00:00 (3 days advanced)"
        assert api.clock()["days_advanced"] == 3


def test_advance_without_a_mock_says_how_to_start_one():
    done = pipeline("advance", "--days", "1", env={"MOCK_PORT": str(_free_port())})
    assert done.returncode == 1
    assert done.stderr.count("\n") == 1
    assert "cannot reach the mock server" in done.stderr and "pipeline serve-mock" in done.stderr


def test_serve_mock_serves_the_configured_world(tmp_path):
    port = _free_port()
    env = {**os.environ, "MOCK_SEED": "5", "MOCK_SCALE": "40", "PIPELINE_DATA_DIR": str(tmp_path)}
    process = subprocess.Popen(
        [
            *(str(BIN / "pipeline"), "serve-mock", "--port", str(port)),
            *("--days-advanced", "2", "--chaos", "outage"),
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            assert process.poll() is None, "serve-mock exited"
            assert time.monotonic() < deadline, "the mock never answered"
            try:
                clock = requests.get(f"http://127.0.0.1:{port}/_mock/clock", timeout=2).json()
                break
            except requests.RequestException:
                time.sleep(0.3)
        assert (clock["seed"], clock["scale"], clock["days_advanced"]) == (5, 40, 2)
        chaos = requests.get(f"http://127.0.0.1:{port}/_mock/chaos", timeout=5).json()
        assert chaos["scenarios"] == ["outage"]
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=30)


def test_not_a_terminal_means_structured_logs_and_a_one_line_error(tmp_path):
    """Without a TTY: no progress bars, JSON log lines for the step, then the one-line error."""
    env = {"PIPELINE_DATA_DIR": str(tmp_path), "MOCK_PORT": str(_free_port())}
    done = pipeline("sync", "hubspot", env=env)
    assert done.returncode == 1
    lines = done.stderr.strip().splitlines()
    events = [orjson.loads(line) for line in lines[:-1]]
    assert {"step started", "step failed"} <= {event["event"] for event in events}
    assert all(event["step"] == "extract_load_hubspot" for event in events if "step" in event)
    assert lines[-1].startswith("error: extract_load_hubspot: ")
    assert "\x1b[" not in done.stderr, "no terminal control codes when not a terminal"
