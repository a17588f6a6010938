"""A private mock server for the suite: started on a free loopback port, with secrets of its own."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests

from testbench.support import running_mock_apis

# Used only by this suite, so that finding one of them in an output is a leak, nothing else.
MAILCHIMP_API_KEY = "chaossecret0mailchimp7f3a9c1e5b2d4-us6"
HUBSPOT_TOKEN = "pat-na1-chaossecret-8e21-4c6d-9a0b-hubspot7f3a"


@dataclass(frozen=True)
class Mock:
    url: str
    process: subprocess.Popen
    log_path: Path

    @property
    def pid(self) -> int:
        return self.process.pid

    def source_config(self, source: str) -> dict[str, Any]:
        if source == "mailchimp":
            return {"apikey": MAILCHIMP_API_KEY, "base_url": f"{self.url}/3.0"}
        return {"access_token": HUBSPOT_TOKEN, "base_url": self.url}

    def faults(self, scenarios: list[str], seed: int) -> dict[str, Any]:
        """Turn the faults on (``POST /_mock/faults``); its request count starts again from 0."""
        body = {"scenarios": scenarios, "seed": seed}
        response = requests.post(f"{self.url}/_mock/faults", json=body, timeout=(5, 30))
        response.raise_for_status()
        return response.json()

    def faults_report(self) -> dict[str, Any]:
        response = requests.get(f"{self.url}/_mock/faults", timeout=(5, 30))
        response.raise_for_status()
        return response.json()

    def calm(self) -> dict[str, Any]:
        """Turn the faults off; return what they did."""
        report = self.faults_report()
        requests.delete(f"{self.url}/_mock/faults", timeout=(5, 30)).raise_for_status()
        return report

    def truth(self) -> dict[str, Any]:
        response = requests.get(f"{self.url}/_mock/truth", params={"keys": "true"}, timeout=300)
        response.raise_for_status()
        return response.json()


@contextmanager
def running_mock(workdir: Path, seed: int, scale: int, dirty_rate: float = 0.02) -> Iterator[Mock]:
    """``mock-apis serve`` on 127.0.0.1 with wide HubSpot budgets (the limits have their own
    tests; here they would only slow every scenario down), stopped on exit."""
    options = ["--seed", str(seed), "--scale", str(scale), "--dirty-rate", str(dirty_rate)]
    options += ["--hubspot-burst", "100000", "--hubspot-search-rate", "1000"]
    log_path = workdir / "mock-apis.log"
    credentials = (MAILCHIMP_API_KEY, HUBSPOT_TOKEN)
    with running_mock_apis(*options, credentials=credentials, log_path=log_path) as (url, process):
        yield Mock(url, process, log_path)
