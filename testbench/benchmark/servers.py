"""The servers a benchmark run talks to: the mock APIs at one scale, and the replay server.

Both are started by the benchmark, bound to 127.0.0.1 on free ports, and stopped by their own
process ids when the scale is done: nothing else running on the machine is touched.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests

from pipeline.config import DEV_HUBSPOT_TOKEN, DEV_MAILCHIMP_API_KEY
from testbench.support import free_port, running_mock_apis, running_server


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


@contextmanager
def serving(scale: int, seed: int, cache: Path, logs: Path) -> Iterator[Servers]:
    """The mock at ``scale`` (clean data, HubSpot's rate limits widened) and a replay in front."""
    logs.mkdir(parents=True, exist_ok=True)
    world = ("--scale", str(scale), "--seed", str(seed))
    limits = ("--hubspot-burst", "100000000", "--hubspot-search-rate", "1000000")
    with running_mock_apis(*world, *limits, log_path=logs / "mock.log") as (mock_url, mock):
        replay_port = free_port()
        replay_url = f"http://127.0.0.1:{replay_port}"
        replay_command = [sys.executable, "-m", "testbench.benchmark.replay"]
        replay_command += ["--upstream", mock_url, "--cache", str(cache)]
        replay_command += ["--port", str(replay_port)]
        with running_server(
            replay_command,
            f"{replay_url}/_mock/health",
            what="the replay server",
            log_path=logs / "replay.log",
        ) as replay:
            yield Servers(mock_url, replay_url, mock.pid, replay.pid, scale)
