"""The instructor playbook (docs/playbook.md) runs as written and prints what it promises.

The commands and the expected lines are read from the page itself, so the page cannot drift from
the code: each step's ```bash block runs in order against a real mock server, and every line of
its ```text block must appear in the step's output, in order. Only the port and the data folder
change (a free port, a temporary folder), everything else is as a person would type it.
"""

from __future__ import annotations

import os
import re
import shlex
import signal
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import requests

from testbench.support import free_port

PROJECT = Path(__file__).resolve().parent.parent
PLAYBOOK = PROJECT / "docs" / "playbook.md"
DOC_PORT, DOC_DATA = "8765", "data/playbook"


@dataclass
class Step:
    title: str
    commands: list[str]
    expected: list[str]


def parse_playbook(text: str) -> list[Step]:
    """Each `## N. Title` section: its first bash block and its first text block."""
    steps = []
    for section in re.split(r"^## (?=\d+\. )", text, flags=re.MULTILINE)[1:]:
        title = section.splitlines()[0].strip()
        blocks = re.findall(r"^```(\w+)\n(.*?)^```", section, flags=re.MULTILINE | re.DOTALL)
        bash = next(body for kind, body in blocks if kind == "bash")
        text_block = next((body for kind, body in blocks if kind == "text"), "")
        steps.append(
            Step(
                title=title,
                commands=[line for line in bash.splitlines() if line.strip()],
                expected=[line.strip() for line in text_block.splitlines() if line.strip()],
            )
        )
    return steps


def _assert_in_order(expected: list[str], output: str, title: str) -> None:
    position = 0
    for line in expected:
        found = output.find(line, position)
        assert found >= 0, f"step {title!r}: expected {line!r} in the output:\n{output[-4000:]}"
        position = found + len(line)


def test_the_playbook_parses_into_its_steps():
    steps = parse_playbook(PLAYBOOK.read_text())
    assert [step.title.split(". ", 1)[1] for step in steps] == [
        "Start the mock APIs",
        "Full load",
        "Advance the clock",
        "Incremental load",
        "Schema drift",
        "Bad data quarantined",
        "An API outage survived",
        "A bad lake run rolled back",
    ]
    for step in steps[1:]:
        assert len(step.commands) == 1, f"{step.title}: one command per step"
        assert step.expected, f"{step.title}: says what to expect"


def test_the_playbook_runs_as_written(tmp_path):
    port = str(free_port())
    data = tmp_path / "playbook"

    def localize(text: str) -> str:
        return text.replace(DOC_PORT, port).replace(DOC_DATA, str(data))

    steps = parse_playbook(localize(PLAYBOOK.read_text()))
    env = dict(os.environ)
    env.pop("AIRFLOW_HOME", None)
    setup, lessons = steps[0], steps[1:]
    background = None
    served = tmp_path / "serve-mock.out"
    try:
        for command in setup.commands:
            if command.startswith("export "):
                for assignment in shlex.split(command)[1:]:
                    name, _, value = assignment.partition("=")
                    env[name] = value
            elif command.endswith("&"):
                with served.open("wb") as output:
                    background = subprocess.Popen(
                        shlex.split(command[:-1]),
                        cwd=PROJECT,
                        env=env,
                        stdout=output,
                        stderr=subprocess.STDOUT,
                        start_new_session=True,
                    )
        assert background is not None, "the playbook starts the mock in the background"
        _wait_for_mock(f"http://127.0.0.1:{port}", background)
        _assert_in_order(setup.expected, served.read_text(), setup.title)

        for step in lessons:
            done = subprocess.run(
                ["bash", "-c", "set -e -o pipefail\n" + "\n".join(step.commands)],
                cwd=PROJECT,
                env=env,
                capture_output=True,
                text=True,
                timeout=600,
            )
            output = done.stdout + done.stderr
            assert done.returncode == 0, f"step {step.title!r} failed:\n{output[-4000:]}"
            _assert_in_order(step.expected, output, step.title)
    finally:
        if background is not None:
            os.killpg(background.pid, signal.SIGTERM)
            background.wait(timeout=30)


def _wait_for_mock(url: str, process: subprocess.Popen) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        assert process.poll() is None, "`pipeline serve-mock` exited"
        try:
            if requests.get(f"{url}/_mock/health", timeout=2).ok:
                return
        except requests.RequestException:
            pass
        time.sleep(0.3)
    raise AssertionError(f"the mock did not answer at {url}")
