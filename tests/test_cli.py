"""The `pipeline` command line: help on every verb, one-line errors, the mock's clock and server.

Each test runs the installed console script in a subprocess (not a TTY), as CI or cron would.
"""

from __future__ import annotations

import ast
import contextlib
import os
import signal
import socket
import subprocess
import time
from dataclasses import replace
from pathlib import Path

import orjson
import psutil
import pytest
import requests

from pipeline.executables import console_script
from testbench.support import free_port

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


def pipeline(*args: str, env: dict[str, str] | None = None, timeout: float = 300):
    return subprocess.run(
        [console_script("pipeline"), *args],
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
        (["sync", "nowhere"], {}, "mailchimp, hubspot, google_sheets, mailchimp_events"),
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
    done = pipeline("advance", "--days", "1", env={"MOCK_PORT": str(free_port())})
    assert done.returncode == 1
    assert done.stderr.count("\n") == 1
    assert "cannot reach the mock server" in done.stderr and "pipeline serve-mock" in done.stderr


def test_serve_mock_serves_the_configured_world(tmp_path):
    port = free_port()
    env = {**os.environ, "MOCK_SEED": "5", "MOCK_SCALE": "40", "PIPELINE_DATA_DIR": str(tmp_path)}
    process = subprocess.Popen(
        [
            *(console_script("pipeline"), "serve-mock", "--port", str(port)),
            *("--days-advanced", "2", "--faults", "outage"),
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        clock = _wait_for_mock(process, port)
        assert (clock["seed"], clock["scale"], clock["days_advanced"]) == (5, 40, 2)
        faults = requests.get(f"http://127.0.0.1:{port}/_mock/faults", timeout=5).json()
        assert faults["scenarios"] == ["outage"]
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=30)


def _wait_for_mock(process: subprocess.Popen, port: int) -> dict:
    """The clock of the mock `pipeline serve-mock` started, once it answers."""
    deadline = time.monotonic() + 60
    while True:
        assert process.poll() is None, "serve-mock exited"
        assert time.monotonic() < deadline, "the mock never answered"
        try:
            return requests.get(f"http://127.0.0.1:{port}/_mock/clock", timeout=2).json()
        except requests.RequestException:
            time.sleep(0.3)


def _listening(port: int) -> bool:
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) == 0


def test_serve_mock_stopped_with_sigterm_stops_the_mock_and_frees_its_port(tmp_path):
    """As a service manager or `kill` stops it: SIGTERM to the `pipeline serve-mock` process
    alone (not its group) stops the server, and no process of it is left holding the port."""
    port = free_port()
    process = subprocess.Popen(
        [console_script("pipeline"), "serve-mock", "--port", str(port), "--scale", "40"],
        env={**os.environ, "PIPELINE_DATA_DIR": str(tmp_path)},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,  # so that the cleanup below can stop whatever it left
    )
    try:
        _wait_for_mock(process, port)
        group = [p.pid for p in psutil.process_iter() if _in_group(p, process.pid)]
        assert group, "the server's processes"
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=30) is not None
        deadline = time.monotonic() + 10
        while _listening(port) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert not _listening(port), "the port is still taken"
        left = [pid for pid in group if psutil.pid_exists(pid) and _alive(pid)]
        assert left == [], f"processes left running: {left}"
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=30)


def _in_group(process: psutil.Process, group: int) -> bool:
    try:
        return os.getpgid(process.pid) == group
    except (ProcessLookupError, psutil.Error):
        return False


def _alive(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def test_a_state_file_that_is_not_json_names_the_file_and_what_to_do(tmp_path, mock_api):
    """A damaged state file stops the sync with one line naming the file and the two ways out."""
    state = tmp_path / "state" / "hubspot.json"
    state.parent.mkdir(parents=True)
    state.write_text('[{"type": nul')
    env = {
        "PIPELINE_DATA_DIR": str(tmp_path),
        "HUBSPOT_BASE_URL": mock_api.hubspot_base_url,
        "HUBSPOT_ACCESS_TOKEN": mock_api.hubspot_token,
    }
    done = pipeline("sync", "hubspot", env=env)
    assert done.returncode == 1
    line = done.stderr.strip().splitlines()[-1]
    assert line.startswith("error: extract_load_hubspot: the state file ")
    assert str(state) in line and "not valid JSON" in line
    assert "restore it, or delete it to run a full sync" in line
    assert state.read_text() == '[{"type": nul', "the file is left for the user to restore"
    assert "Traceback" not in done.stderr

    state.unlink()  # what the message says: without it, the sync starts from the beginning
    done = pipeline("sync", "hubspot", env=env)
    assert done.returncode == 0, done.stderr
    assert orjson.loads(done.stdout)["records"] > 0
    assert orjson.loads(state.read_bytes()), "a new state was committed"


def test_settings_are_read_once_from_the_environment_and_passed_on_whole():
    """Settings.from_env is the one reader; to_env gives a child the same configuration; an
    override of the mock's port (a CLI option) moves the sources' URLs that follow from it."""
    from pipeline.config import ConfigError, Settings

    environ = {
        "PIPELINE_DATA_DIR": "/srv/pipeline",
        "MOCK_PORT": "9001",
        "LAKE_ROOT": "/lake",
        "PEOPLE_HASH_KEY": "s3cret-key",
        "PIPELINE_SCHEDULE": "none",
        "MOCK_DIRTY_RATE": "0",
    }
    settings = Settings.from_env(environ)
    assert settings.warehouse_path == Path("/srv/pipeline/warehouse.duckdb")
    assert settings.lake_root == Path("/lake")
    assert (settings.schedule, settings.mock_dirty_rate) == (None, 0.0)
    assert settings.hubspot_base_url == "http://127.0.0.1:9001"
    assert Settings.from_env(settings.to_env()) == settings
    assert "s3cret-key" not in repr(settings), "secrets stay out of logs and tracebacks"
    moved = replace(settings, mock_port=9002)
    assert moved.mailchimp_base_url == "http://127.0.0.1:9002/3.0"
    with pytest.raises(AttributeError):
        settings.mock_port = 1  # frozen: what a step is given, it cannot change for others
    child = moved.child_env(EXTRA="1")
    assert (child["MOCK_PORT"], child["EXTRA"], child["PEOPLE_HASH_KEY"]) == (
        "9002",
        "1",
        "s3cret-key",
    )
    with pytest.raises(ConfigError, match="MOCK_DIRTY_RATE"):
        Settings.from_env({"MOCK_DIRTY_RATE": "lots"})


def test_no_product_code_passes_configuration_through_os_environ():
    """The pipeline and its DAG touch os.environ in one place: pipeline/config.py reads it."""
    project = Path(__file__).resolve().parent.parent
    offenders = []
    for path in sorted([*project.glob("pipeline/*.py"), *project.glob("dags/*.py")]):
        if path == project / "pipeline" / "config.py":
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Attribute) and (
                node.attr in {"environ", "getenv", "putenv", "unsetenv"}
            ):
                offenders.append(f"{path.relative_to(project)}:{node.lineno}")
    assert offenders == []


def test_not_a_terminal_means_structured_logs_and_a_one_line_error(tmp_path):
    """Without a TTY: no progress bars, JSON log lines for the step, then the one-line error."""
    env = {"PIPELINE_DATA_DIR": str(tmp_path), "MOCK_PORT": str(free_port())}
    done = pipeline("sync", "hubspot", env=env)
    assert done.returncode == 1
    lines = done.stderr.strip().splitlines()
    events = [orjson.loads(line) for line in lines[:-1]]
    assert {"step started", "step failed"} <= {event["event"] for event in events}
    assert all(event["step"] == "extract_load_hubspot" for event in events if "step" in event)
    assert lines[-1].startswith("error: extract_load_hubspot: ")
    assert "\x1b[" not in done.stderr, "no terminal control codes when not a terminal"
