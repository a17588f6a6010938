"""The servers a benchmark run talks to: the mock APIs at one scale, and the replay server.

Both are started by the benchmark, bound to 127.0.0.1 on free ports, and stopped by their own
process ids when the scale is done: nothing else running on the machine is touched.
"""

from __future__ import annotations

import contextlib
import ctypes
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests

from pipeline.config import DEV_HUBSPOT_TOKEN, DEV_MAILCHIMP_API_KEY
from pipeline.services import stop_process

STARTUP_TIMEOUT_SECONDS = 120


@dataclass
class Servers:
    mock_url: str
    replay_url: str
    mock_pid: int
    replay_pid: int
    scale: int
    mailchimp_api_key: str = DEV_MAILCHIMP_API_KEY
    hubspot_token: str = DEV_HUBSPOT_TOKEN

    @property
    def mailchimp_base_url(self) -> str:
        """Every comparator reads through the replay server."""
        return f"{self.replay_url}/3.0"

    def truth(self) -> dict[str, Any]:
        response = requests.get(f"{self.mock_url}/_mock/truth", timeout=(5, 1800))
        response.raise_for_status()
        return response.json()

    def advance(self, days: int) -> dict[str, Any]:
        """Move the world on (through the replay server, which starts a new cache generation)."""
        response = requests.post(
            f"{self.replay_url}/_mock/advance", params={"days": days}, timeout=(5, 600)
        )
        response.raise_for_status()
        return response.json()

    def list_ids(self) -> list[str]:
        response = requests.get(
            f"{self.mailchimp_base_url}/lists",
            params={"count": 1000, "fields": "lists.id"},
            auth=("anystring", self.mailchimp_api_key),
            timeout=(5, 60),
        )
        response.raise_for_status()
        return [item["id"] for item in response.json()["lists"]]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _die_with_parent() -> None:
    """In the child, before exec: ask Linux to stop it when the benchmark dies, even by SIGKILL
    (a timed-out test), so that no server is left behind."""
    with contextlib.suppress(OSError, AttributeError):  # not Linux: no such safety net
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


def _wait_until_up(url: str, process: subprocess.Popen, what: str) -> None:
    deadline = time.monotonic() + STARTUP_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{what} exited with {process.returncode} while starting")
        try:
            if requests.get(url, timeout=2).status_code == 200:
                return
        except requests.RequestException:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"{what} did not answer {url} within {STARTUP_TIMEOUT_SECONDS} s")


def _stop(process: subprocess.Popen) -> None:
    stop_process(process, timeout=15)


@contextmanager
def serving(scale: int, seed: int, cache: Path, logs: Path) -> Iterator[Servers]:
    """The mock at ``scale`` (clean data, HubSpot's rate limits widened) and a replay in front."""
    logs.mkdir(parents=True, exist_ok=True)
    mock_port, replay_port = free_port(), free_port()
    mock_command = [
        str(Path(sys.executable).with_name("mock-apis")),
        "serve",
        *("--port", str(mock_port), "--scale", str(scale), "--seed", str(seed)),
        *("--hubspot-burst", "100000000", "--hubspot-search-rate", "1000000"),
    ]
    mock_url = f"http://127.0.0.1:{mock_port}"
    replay_url = f"http://127.0.0.1:{replay_port}"
    with (logs / "mock.log").open("wb") as mock_log, (logs / "replay.log").open("wb") as replay_log:
        mock = subprocess.Popen(
            mock_command, stdout=mock_log, stderr=subprocess.STDOUT, preexec_fn=_die_with_parent
        )
        replay = None
        try:
            _wait_until_up(f"{mock_url}/_mock/health", mock, "mock-apis")
            replay_command = [
                sys.executable,
                *(
                    "-m",
                    "testbench.benchmark.replay",
                    "--upstream",
                    mock_url,
                    "--cache",
                    str(cache),
                ),
                *("--port", str(replay_port)),
            ]
            replay = subprocess.Popen(
                replay_command,
                stdout=replay_log,
                stderr=subprocess.STDOUT,
                preexec_fn=_die_with_parent,
            )
            _wait_until_up(f"{replay_url}/_mock/health", replay, "the replay server")
            yield Servers(mock_url, replay_url, mock.pid, replay.pid, scale)
        finally:
            if replay is not None:
                _stop(replay)
            _stop(mock)
