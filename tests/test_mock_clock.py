"""The simulated clock over real HTTP: advancing a private server changes exactly what the truth
says changed, and incremental filters return exactly those changes.

Advancing is deterministic: the world after ``advance(d)`` is the world served with
``--days-advanced d`` and the world computed in process.
"""

import subprocess
from collections.abc import Iterator
from typing import Any

import pytest
import requests
from conftest import running_mock_api

from pipeline.executables import console_script
from testbench.mock_apis import hubspot, mailchimp
from testbench.mock_apis.truth import truth
from testbench.mock_apis.world import World

TIMEOUT = (5, 60)
SEED, SCALE, DAYS = 13, 1000, 20
DIRTY_RATE = 0.05  # defects must not disturb the clock: they are fixed per record


def cursor_map(document: dict[str, Any], stream: str) -> dict[tuple[str, ...], str]:
    """``{key: cursor value}`` of one stream in a truth document."""
    return {tuple(row[:-1]): row[-1] for row in document["cursors"][stream]["rows"]}


def get_all(url: str, key: str, auth: tuple[str, str], **params: Any) -> list[dict[str, Any]]:
    records: list[dict[str, Any]] = []
    while True:
        response = requests.get(
            url,
            params={**params, "count": 1000, "offset": len(records)},
            auth=auth,
            timeout=TIMEOUT,
        )
        response.raise_for_status()
        page = response.json()
        records += page[key]
        if len(records) >= page["total_items"]:
            return records


@pytest.fixture(scope="module")
def advanced() -> Iterator[dict[str, Any]]:
    """A private server's truth before and after advancing, and what it served after."""
    with running_mock_api(SEED, SCALE, "--dirty-rate", str(DIRTY_RATE)) as api:
        before = api.truth(keys=True)
        clock = api.advance(DAYS)
        after = api.truth(keys=True)
        auth = api.mailchimp_auth
        since = before["now"]
        changed_members = {
            (member["id"], item_id): member["last_changed"]
            for item_id in after["keys"]["lists"]
            for member in get_all(
                f"{api.mailchimp_base_url}/lists/{item_id}/members",
                "members",
                auth,
                since_last_changed=since,
            )
        }
        yield {
            "before": before,
            "after": after,
            "clock": clock,
            "served_clock": api.clock(),
            "changed_members": changed_members,
            "api": api,
        }


def test_advance_moves_the_clock(advanced):
    assert advanced["clock"]["days_advanced"] == DAYS
    assert advanced["after"]["now"] == advanced["clock"]["now"] > advanced["before"]["now"]
    assert advanced["served_clock"] == advanced["clock"]


def test_advancing_is_deterministic(advanced):
    assert advanced["after"] == truth(World(SEED, SCALE, DAYS, DIRTY_RATE), keys=True)


@pytest.mark.parametrize("stream", ["list_members", "contacts", "companies", "deals"])
def test_unchanged_records_keep_their_cursor_and_changed_ones_move_it(advanced, stream):
    before, after = cursor_map(advanced["before"], stream), cursor_map(advanced["after"], stream)
    assert before.keys() <= after.keys(), "nothing disappears"
    changed = {key for key in before if after[key] != before[key]}
    assert all(after[key] > before[key] for key in changed), "a change moves the cursor forward"
    new = after.keys() - before.keys()
    assert new, "time brings new records"
    if stream != "companies":  # few companies: an edit within the days advanced is not certain
        assert changed, "time changes existing records"


def test_since_last_changed_returns_exactly_the_changes(advanced):
    before = cursor_map(advanced["before"], "list_members")
    after = cursor_map(advanced["after"], "list_members")
    expected = {key: value for key, value in after.items() if before.get(key) != value}
    assert advanced["changed_members"] == expected
    statuses_changed = [key for key in expected if key in before]
    assert statuses_changed, "some members unsubscribed or were cleaned"


def test_changed_records_are_otherwise_identical(advanced):
    """A record whose cursor did not move is byte-identical before and after advancing."""
    old, new = World(SEED, SCALE, 0, DIRTY_RATE), World(SEED, SCALE, DAYS, DIRTY_RATE)

    names = tuple(d.name for d in hubspot.PROPERTY_CATALOG["contacts"])
    for index in range(old.contact_count):
        before, after = (hubspot.contact(w, index, names, ()) for w in (old, new))
        if before["updatedAt"] == after["updatedAt"]:
            assert before == after
    for item in old.lists:
        for offset in range(old.list_size(item.index)):
            before, after = (mailchimp.member(w, item, offset) for w in (old, new))
            if before["last_changed"] == after["last_changed"]:
                assert before == after


def test_cli_advance_calls_the_running_server(advanced):
    """Last in this module: it moves the private server's clock further."""
    api = advanced["api"]
    result = subprocess.run(
        [console_script("mock-apis"), "advance", "--days", "3", "--url", api.url],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    assert f"{DAYS + 3} days advanced" in result.stdout
    assert api.clock()["now"] == result.stdout.split()[1]
