"""Shared fixtures.

``mock_api`` runs the real ``mock-apis`` console script, as the pipeline does, on a free loopback
port with a small world and test-only credentials, so that a test can also check that no credential
leaks anywhere.
"""

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import pytest
import requests

from pipeline.services import stop_process

MOCK_SEED = 7
MOCK_SCALE = 300
# Deliberately unlike the development defaults: a test that finds them in some output found a leak.
TEST_MAILCHIMP_API_KEY = "testonly5e3c9a7f0b1d2e4f6a8c0e1f2a3b4c5d-us6"
TEST_HUBSPOT_TOKEN = "pat-na1-testonly-5e3c-9a7f-0b1d-2e4f6a8c0e1f"
STARTUP_TIMEOUT_SECONDS = 60


@dataclass(frozen=True)
class MockApi:
    """A running mock server and what a client needs to talk to it."""

    url: str
    mailchimp_api_key: str
    hubspot_token: str
    seed: int
    scale: int

    @property
    def mailchimp_base_url(self) -> str:
        return f"{self.url}/3.0"

    @property
    def hubspot_base_url(self) -> str:
        return self.url

    def truth(self, keys: bool = False, attribution_window_days: int = 30) -> dict[str, Any]:
        """The ground truth of the served world (``keys=True`` adds every stream's primary keys)."""
        response = requests.get(
            f"{self.url}/_mock/truth",
            params={"keys": str(keys).lower(), "attribution_window_days": attribution_window_days},
            timeout=(5, 120),
        )
        response.raise_for_status()
        return response.json()

    def clock(self) -> dict[str, Any]:
        """The simulated now: ``{seed, scale, days_advanced, now}``."""
        response = requests.get(f"{self.url}/_mock/clock", timeout=(5, 30))
        response.raise_for_status()
        return response.json()

    def advance(self, days: int) -> dict[str, Any]:
        """Move the server's simulated now forward; returns the new clock.

        Never on the shared session ``mock_api``: other tests expect its world to stay put. Start
        a private server with ``mock_api_server`` instead.
        """
        response = requests.post(
            f"{self.url}/_mock/advance", params={"days": days}, timeout=(5, 120)
        )
        response.raise_for_status()
        return response.json()


def _mock_apis_command() -> str:
    """The console script of this environment (beside the interpreter), else the one on PATH."""
    beside_python = Path(sys.executable).parent / "mock-apis"
    if beside_python.exists():
        return str(beside_python)
    found = shutil.which("mock-apis")
    if found is None:
        raise RuntimeError("the mock-apis console script is not installed (run `uv sync`)")
    return found


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _wait_until_healthy(url: str, process: subprocess.Popen, log: IO[bytes]) -> None:
    deadline = time.monotonic() + STARTUP_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            log.seek(0)
            output = log.read().decode(errors="replace")
            raise RuntimeError(f"mock-apis exited with code {process.returncode}:\n{output}")
        try:
            if requests.get(f"{url}/_mock/health", timeout=(1, 5)).ok:
                return
        except requests.ConnectionError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"mock-apis did not become healthy within {STARTUP_TIMEOUT_SECONDS} s")


@contextmanager
def running_mock_api(
    seed: int = MOCK_SEED, scale: int = MOCK_SCALE, *options: str
) -> Iterator[MockApi]:
    """A private ``mock-apis serve`` with extra command-line ``options``, stopped on exit."""
    port = _free_port()
    env = {
        **os.environ,
        "MOCK_MAILCHIMP_API_KEY": TEST_MAILCHIMP_API_KEY,
        "MOCK_HUBSPOT_TOKEN": TEST_HUBSPOT_TOKEN,
    }
    command = [_mock_apis_command(), "serve", "--host", "127.0.0.1", "--port", str(port)]
    command += ["--seed", str(seed), "--scale", str(scale), *options]
    url = f"http://127.0.0.1:{port}"
    # The server's output goes to a file, shown if it fails to start.
    with tempfile.TemporaryFile() as log:
        process = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT)
        try:
            _wait_until_healthy(url, process, log)
            yield MockApi(
                url=url,
                mailchimp_api_key=TEST_MAILCHIMP_API_KEY,
                hubspot_token=TEST_HUBSPOT_TOKEN,
                seed=seed,
                scale=scale,
            )
        finally:
            stop_process(process)


# The shared server answers many test files at once, so its HubSpot budgets are wider than
# HubSpot's (tests of the limits start a private server), and its data is clean: the tests that
# use it compare against clean expectations (tests of dirty data start a private server).
SHARED_SERVER_OPTIONS = (
    *("--hubspot-burst", "100000", "--hubspot-search-rate", "1000"),
    *("--dirty-rate", "0"),
)


@pytest.fixture(scope="session")
def mock_api() -> Iterator[MockApi]:
    """The shared server: never advance it (see ``MockApi.advance``)."""
    with running_mock_api(MOCK_SEED, MOCK_SCALE, *SHARED_SERVER_OPTIONS) as api:
        yield api


@pytest.fixture
def mock_api_server() -> Callable[..., AbstractContextManager[MockApi]]:
    """A private server: ``with mock_api_server(seed, scale, "--dirty-rate", "0") as api``."""
    return running_mock_api
