"""The orchestrator keeps a source's discovered catalog while its code and config are unchanged."""

import os
import time

import pytest

from pipeline import sync

CATALOG = {"streams": [{"name": "members", "json_schema": {}, "supported_sync_modes": []}]}


@pytest.fixture
def discovers(monkeypatch, tmp_path) -> list[tuple]:
    """The connector commands run (discover answers CATALOG), in a package copied to tmp_path."""
    package = tmp_path / "source_x"
    package.mkdir()
    (package / "schemas.py").write_text("MEMBERS = {}\n")
    monkeypatch.setattr(sync, "_connector_package", lambda source: package)
    monkeypatch.setattr(sync, "connector_command", lambda source: [source])
    calls = []

    def run(command, *args, env=None):
        calls.append((*command, *args[:1]))
        return [{"type": "CATALOG", "catalog": CATALOG}]

    monkeypatch.setattr(sync, "run_protocol_command", run)
    return calls


def test_a_kept_catalog_is_reused_until_the_config_or_the_connector_changes(discovers, tmp_path):
    cache = tmp_path / "state" / "mailchimp.catalog.json"
    config = {"apikey": "key-one", "base_url": "http://127.0.0.1:1/3.0"}
    assert sync.discover("source-x", config, cache=cache) == CATALOG
    assert sync.discover("source-x", config, cache=cache) == CATALOG
    assert len(discovers) == 1  # the second came from the cache
    assert b"key-one" not in cache.read_bytes()  # the config enters the key as a digest only

    sync.discover("source-x", {**config, "apikey": "key-two"}, cache=cache)
    assert len(discovers) == 2
    (tmp_path / "source_x" / "schemas.py").write_text("MEMBERS = {'new': {}}\n")
    sync.discover("source-x", {**config, "apikey": "key-two"}, cache=cache)
    assert len(discovers) == 3  # new schemas in the connector's code: discovered again

    day_ago = time.time() - sync.DISCOVER_MAX_AGE_S - 1
    os.utime(cache, (day_ago, day_ago))
    sync.discover("source-x", {**config, "apikey": "key-two"}, cache=cache)
    assert len(discovers) == 4  # too old: discovered again

    cache.write_text("{not json")
    assert sync.discover("source-x", {**config, "apikey": "key-two"}, cache=cache) == CATALOG
    assert len(discovers) == 5  # a damaged cache is only a miss
    sync.discover("source-x", {**config, "apikey": "key-two"})
    assert len(discovers) == 6  # no cache asked for: always discovered


def test_the_package_behind_a_console_script_is_found_without_importing_it():
    path = sync._connector_package("source-mailchimp")
    assert path is not None and path.name == "source_mailchimp"
    assert (path / "spec.json").exists()
    assert sync._connector_package("no-such-connector") is None
