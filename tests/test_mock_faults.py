"""The mock's fault injection (mock_apis/faults.py) on a real server: off by default, deterministic
from its seed, set from the command line or over HTTP, and never a change of the world."""

import subprocess

import pytest
import requests
from conftest import TEST_MAILCHIMP_API_KEY

from pipeline.executables import console_script

AUTH = ("anystring", TEST_MAILCHIMP_API_KEY)


@pytest.fixture(scope="module")
def server():
    from conftest import running_mock_api

    with running_mock_api(7, 60, "--faults", "outage:start=1:count=2", "--faults-seed", "3") as api:
        yield api


def _lists(api, **params) -> requests.Response:
    return requests.get(f"{api.url}/3.0/lists", auth=AUTH, params=params, timeout=(5, 30))


def _faults(api, method: str = "GET", **body) -> dict:
    response = requests.request(method, f"{api.url}/_mock/faults", json=body or None, timeout=30)
    response.raise_for_status()
    return response.json()


def test_faults_from_the_command_line_then_cleared(server):
    """``--faults outage:start=1:count=2``: the first two API requests get 503, then recovery;
    admin requests do not count."""
    assert requests.get(f"{server.url}/_mock/health", timeout=30).ok
    assert [_lists(server).status_code for _ in range(3)] == [503, 503, 200]
    state = _faults(server)
    assert state["scenarios"] == ["outage:start=1:count=2"]
    assert state["seed"] == 3
    assert state["requests"] == 3
    assert state["injected"] == {"outage": 2}
    assert _faults(server, "DELETE")["scenarios"] == []
    assert _lists(server).status_code == 200


def test_the_same_seed_gives_the_same_faults(server):
    def statuses(seed: int) -> list[int]:
        _faults(server, "POST", scenarios=["server_error:rate=0.4"], seed=seed)
        return [_lists(server).status_code for _ in range(20)]

    first = statuses(11)
    assert first == statuses(11)
    assert set(first) == {200, 500}
    assert first != statuses(12)
    _faults(server, "DELETE")


@pytest.mark.parametrize(
    ("scenario", "check"),
    [
        ("truncated_json", lambda r: r.status_code == 200 and r.content.startswith(b'{"lists"')),
        ("html_page", lambda r: r.status_code == 200 and b"<html>" in r.content),
        ("empty_body", lambda r: r.status_code == 200 and r.content == b""),
        ("unauthorized", lambda r: r.status_code == 401 and r.json()["status"] == 401),
        ("rate_limit", lambda r: r.status_code == 429 and r.headers["Retry-After"] == "1"),
        (
            "rate_limit_no_retry_after",
            lambda r: r.status_code == 429 and "Retry-After" not in r.headers,
        ),
    ],
)
def test_broken_answers(server, scenario, check):
    _faults(server, "POST", scenarios=[f"{scenario}:start=1:count=1"], seed=0)
    try:
        answer = _lists(server)
        assert check(answer), (answer.status_code, answer.content[:200])
        assert _lists(server).json()["lists"], "only the scripted request is broken"
    finally:
        _faults(server, "DELETE")


def test_a_reset_connection_and_a_hang(server):
    _faults(server, "POST", scenarios=["reset:start=1:count=1"], seed=0)
    with pytest.raises(requests.exceptions.ChunkedEncodingError):
        _lists(server)
    _faults(server, "POST", scenarios=["hang:start=1:count=1:seconds=3"], seed=0)
    with pytest.raises(requests.exceptions.ReadTimeout):
        requests.get(f"{server.url}/3.0/lists", auth=AUTH, timeout=(5, 1))
    _faults(server, "DELETE")


def test_a_repeated_page(server):
    _faults(server, "POST", scenarios=["repeat_page:rate=1"], seed=0)
    try:
        first = _lists(server, count=1, offset=0).json()["lists"]
        second = _lists(server, count=1, offset=1).json()["lists"]
        assert second == first
    finally:
        _faults(server, "DELETE")
    assert _lists(server, count=1, offset=1).json()["lists"] != first


def test_drift_and_bad_records_change_the_answer_not_the_world(server):
    truth = requests.get(f"{server.url}/_mock/truth", timeout=60).json()
    clean = _lists(server).json()["lists"]
    _faults(server, "POST", scenarios=["drift_add", "null_key:rate=1", "hostile_names:rate=1"])
    try:
        changed = _lists(server).json()["lists"]
        assert all(item["drift_added_field"] for item in changed)
        assert sum(item["id"] is None for item in changed) == 1
        assert any("Robert'); DROP TABLE students;--" in item for item in changed)
        bad = _faults(server)["bad_records"]
        assert {record["scenario"] for record in bad} == {"null_key", "hostile_names"}
        assert any(record["id"] == item["id"] for record in bad for item in clean)
        assert requests.get(f"{server.url}/_mock/truth", timeout=60).json() == truth
    finally:
        _faults(server, "DELETE")


def test_the_faults_command_sets_a_running_server(server):
    command = [console_script("mock-apis"), "faults", "--url", server.url]
    done = subprocess.run([*command, "outage", "--seed", "5"], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert "faults on: outage" in done.stdout
    assert _faults(server)["seed"] == 5
    unknown = subprocess.run([*command, "no_such_fault"], capture_output=True, text=True)
    assert unknown.returncode != 0 and "unknown fault scenario" in unknown.stderr
    cleared = subprocess.run([*command, "--clear"], capture_output=True, text=True)
    assert "faults off" in cleared.stdout
    assert _lists(server).status_code == 200


def test_an_unknown_scenario_is_a_400(server):
    response = requests.post(f"{server.url}/_mock/faults", json={"scenarios": ["nope"]}, timeout=30)
    assert response.status_code == 400
    assert "unknown fault scenario 'nope'" in response.json()["message"]
