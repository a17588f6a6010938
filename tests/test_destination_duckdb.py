"""destination-duckdb writing synthetic messages into real DuckDB files, and one real pipe."""

import io
import json
import logging
import subprocess
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import duckdb
import pytest
from airbyte_cdk.models import (
    AirbyteMessage,
    AirbyteMessageSerializer,
    ConfiguredAirbyteCatalog,
    ConfiguredAirbyteCatalogSerializer,
    FailureType,
    Status,
    Type,
)
from airbyte_cdk.utils.traced_exception import AirbyteTracedException
from destination_duckdb import DestinationDuckdb
from destination_duckdb.destination import read_messages

from pipeline.executables import console_script

logger = logging.getLogger("airbyte")
EMITTED_AT = 1_700_000_000_000  # 2023-11-14T22:13:20Z
SCHEMA = {
    "type": "object",
    "properties": {
        "id": {"type": ["null", "string"]},
        "n": {"type": ["null", "integer"]},
        "x": {"type": ["null", "number"]},
        "ok": {"type": ["null", "boolean"]},
        "at": {"type": ["null", "string"], "format": "date-time"},
        "obj": {"type": ["null", "object"]},
        "tags": {"type": ["null", "array"]},
    },
}


def catalog(*streams: tuple[str, str], schema: dict[str, Any] = SCHEMA) -> ConfiguredAirbyteCatalog:
    """A catalog of ``(name, destination_sync_mode)`` streams keyed by ``id``, cursor ``at``."""
    return ConfiguredAirbyteCatalogSerializer.load(
        {
            "streams": [
                {
                    "stream": {"name": name, "json_schema": schema, "supported_sync_modes": []},
                    "sync_mode": "full_refresh",
                    "destination_sync_mode": mode,
                    "primary_key": [["id"]],
                    "cursor_field": ["at"],
                }
                for name, mode in streams
            ]
        }
    )


def record(stream: str, data: dict[str, Any], emitted_at: int = EMITTED_AT) -> AirbyteMessage:
    return AirbyteMessageSerializer.load(
        {"type": "RECORD", "record": {"stream": stream, "data": data, "emitted_at": emitted_at}}
    )


def state(stream: str) -> AirbyteMessage:
    return AirbyteMessageSerializer.load(
        {
            "type": "STATE",
            "state": {
                "type": "STREAM",
                "stream": {"stream_descriptor": {"name": stream}, "stream_state": {"done": True}},
            },
        }
    )


def write(
    path: Path, cat: ConfiguredAirbyteCatalog, messages: Iterable[AirbyteMessage], **config: Any
) -> list[AirbyteMessage]:
    config = {"destination_path": str(path), "schema": "raw", **config}
    return list(DestinationDuckdb().write(config, cat, messages))


def rows(path: Path, sql: str) -> list[tuple]:
    with duckdb.connect(str(path)) as con:
        return con.sql(sql).fetchall()


def test_check_creates_the_file_and_leaves_no_probe(tmp_path):
    path = tmp_path / "nested" / "dir" / "w.duckdb"
    config = {"destination_path": str(path), "schema": "raw"}
    assert DestinationDuckdb().check(logger, config).status == Status.SUCCEEDED
    assert path.exists()
    assert rows(path, "select count(*) from duckdb_tables() where schema_name = 'raw'") == [(0,)]


def test_check_fails_on_an_unwritable_path(tmp_path):
    (tmp_path / "a_file").write_text("not a folder")
    config = {"destination_path": str(tmp_path / "a_file" / "w.duckdb")}
    assert DestinationDuckdb().check(logger, config).status == Status.FAILED


def test_columns_are_typed_with_the_meta_columns(tmp_path):
    path = tmp_path / "w.duckdb"
    data = {"id": "a", "n": 1, "x": 1.5, "ok": True, "at": "2022-12-27T08:12:59+00:00"}
    data |= {"obj": {"k": [1, 2]}, "tags": [{"id": 1}]}
    write(path, catalog(("s", "append")), [record("s", data), state("s")])
    types = dict(rows(path, "select column_name, column_type from (describe raw.s)"))
    assert types == {
        "id": "VARCHAR",
        "n": "BIGINT",
        "x": "DOUBLE",
        "ok": "BOOLEAN",
        "at": "TIMESTAMP WITH TIME ZONE",
        "obj": "JSON",
        "tags": "JSON",
        "_airbyte_raw_id": "VARCHAR",
        "_airbyte_extracted_at": "TIMESTAMP WITH TIME ZONE",
        "_airbyte_meta": "JSON",
    }
    (row,) = rows(
        path,
        "select n, \"at\" = '2022-12-27 08:12:59+00'::timestamptz, obj->>'$.k[1]', "
        "epoch_ms(_airbyte_extracted_at), _airbyte_meta::varchar, length(_airbyte_raw_id) "
        "from raw.s",
    )
    assert row == (1, True, "2", EMITTED_AT, '{"changes":[]}', 36)


def test_values_that_do_not_fit_are_nulled_and_reported(tmp_path):
    path = tmp_path / "w.duckdb"
    bad = {"id": "bad", "n": "twelve", "x": True, "ok": "yes", "at": "not a date"}
    empty = {"id": "empty", "n": 2.0, "x": 3, "at": ""}
    write(path, catalog(("s", "append")), [record("s", bad), record("s", empty)])
    result = {
        r[0]: r[1:]
        for r in rows(path, 'select id, n, x, ok, "at", _airbyte_meta::varchar from raw.s')
    }
    assert result["bad"][:4] == (None, None, None, None)
    changes = json.loads(result["bad"][4])["changes"]
    assert sorted(c["field"] for c in changes) == ["at", "n", "ok", "x"]
    assert {c["change"] for c in changes} == {"NULLED"}
    # A float with no fraction is a fine integer; "" in a date-time is NULL, not an error.
    assert result["empty"] == (2, 3.0, None, None, '{"changes":[]}')


def test_records_load_in_batches_and_state_follows_the_commit(tmp_path):
    """When a state message comes out, every record before it is in the table, none after."""
    path = tmp_path / "w.duckdb"

    def messages():
        for i in range(25):
            yield record("s", {"id": str(i), "n": i})
        yield state("s")
        for i in range(25, 30):
            yield record("s", {"id": str(i), "n": i})

    seen_at_state = []
    config = {"destination_path": str(path), "schema": "raw", "batch_size": 10}
    for message in DestinationDuckdb().write(config, catalog(("s", "append")), messages()):
        assert message.type == Type.STATE
        seen_at_state.append(rows(path, "select count(*), max(n) from raw.s"))
    assert seen_at_state == [[(25, 24)]]
    assert rows(path, "select count(*), count(distinct id) from raw.s") == [(30, 30)]


def test_batches_after_the_last_state_are_not_committed_when_the_write_dies(tmp_path):
    """Batches load into one transaction that a state message commits: a write killed after
    loading batches past the last state leaves the table as that state saw it, so re-reading
    from the state duplicates nothing, even in append mode."""
    path = tmp_path / "w.duckdb"

    def messages():
        yield from (record("s", {"id": str(i), "n": i}) for i in range(12))
        yield state("s")
        yield from (record("s", {"id": str(i), "n": i}) for i in range(12, 40))  # 2 batches
        raise RuntimeError("killed")

    config = {"destination_path": str(path), "schema": "raw", "batch_size": 10}
    with pytest.raises(RuntimeError, match="killed"):
        for _ in DestinationDuckdb().write(config, catalog(("s", "append")), messages()):
            pass
    assert rows(path, "select count(*), max(n) from raw.s") == [(12, 11)]


def test_overwrite_swaps_atomically_and_never_duplicates(tmp_path):
    path = tmp_path / "w.duckdb"
    cat = catalog(("s", "overwrite"))
    write(path, cat, [record("s", {"id": str(i)}) for i in range(5)] + [state("s")])
    assert rows(path, "select count(*) from raw.s") == [(5,)]

    def second_sync():
        for i in range(3):
            yield record("s", {"id": f"new{i}"})
        yield state("s")

    config = {"destination_path": str(path), "schema": "raw", "batch_size": 2}
    for _ in DestinationDuckdb().write(config, cat, second_sync()):
        # Committed to the temporary table; readers still see the whole previous table.
        assert rows(path, "select count(*) from raw.s") == [(5,)]
    assert rows(path, "select id from raw.s order by id") == [("new0",), ("new1",), ("new2",)]
    assert rows(path, "select count(*) from duckdb_tables() where table_name like '_airbyte%'") == [
        (0,)
    ]


def test_overwrite_keeps_the_old_table_when_the_stream_never_completes(tmp_path):
    path = tmp_path / "w.duckdb"
    cat = catalog(("s", "overwrite"))
    write(path, cat, [record("s", {"id": "old"}), state("s")])
    write(path, cat, [record("s", {"id": "partial"})])  # the source died: no state
    assert rows(path, "select id from raw.s") == [("old",)]


def test_append_dedup_keeps_the_latest_row_per_key(tmp_path):
    path = tmp_path / "w.duckdb"
    cat = catalog(("s", "append_dedup"))
    first = [
        record("s", {"id": "a", "n": 1, "at": "2024-01-01T00:00:00Z"}),
        record("s", {"id": "b", "n": 1, "at": "2024-01-01T00:00:00Z"}),
    ]
    write(path, cat, [*first, state("s")])
    second = [
        record("s", {"id": "a", "n": 2, "at": "2024-02-01T00:00:00Z"}, EMITTED_AT + 1),
        # An older version arriving later loses to the newer cursor already loaded.
        record("s", {"id": "b", "n": 0, "at": "2023-12-01T00:00:00Z"}, EMITTED_AT + 1),
        record("s", {"id": "c", "n": 1, "at": "2024-02-01T00:00:00Z"}, EMITTED_AT + 1),
    ]
    write(path, cat, [*second, state("s")], batch_size=2)
    assert rows(path, "select id, n from raw.s order by id") == [("a", 2), ("b", 1), ("c", 1)]


def test_append_keeps_every_row_of_every_sync(tmp_path):
    path = tmp_path / "w.duckdb"
    cat = catalog(("s", "append"))
    write(path, cat, [record("s", {"id": "a", "n": 1}), state("s")])
    write(path, cat, [record("s", {"id": "a", "n": 2}), record("s", {"id": "b"}), state("s")])
    assert rows(path, "select id, n from raw.s order by id, n") == [
        ("a", 1),
        ("a", 2),
        ("b", None),
    ]


@pytest.mark.parametrize("mode", ["append", "append_dedup"])
def test_a_field_new_in_the_schema_adds_a_column_and_keeps_the_rows(tmp_path, mode):
    path = tmp_path / "w.duckdb"
    write(path, catalog(("s", mode)), [record("s", {"id": "a", "n": 1}), state("s")])
    wider = {**SCHEMA, "properties": {**SCHEMA["properties"], "added": {"type": "integer"}}}
    cat = catalog(("s", mode), schema=wider)
    write(path, cat, [record("s", {"id": "b", "n": 2, "added": 7}), state("s")])
    assert rows(path, "select id, n, added from raw.s order by id") == [
        ("a", 1, None),
        ("b", 2, 7),
    ]


def test_hostile_stream_and_field_names_are_quoted(tmp_path):
    path = tmp_path / "w.duckdb"
    stream = 'x"; DROP TABLE raw.other; --'
    schema = {
        "type": "object",
        "properties": {
            'we"ird': {"type": "string"},
            "it's": {"type": "string", "format": "date-time"},
            "Name": {"type": "string"},
            "name": {"type": "string"},
            "_airbyte_meta": {"type": "string"},
        },
    }
    data = {'we"ird': "q", "it's": "nope", "Name": "A", "name": "b", "_airbyte_meta": "m"}
    write(path, catalog((stream, "append"), schema=schema), [record(stream, data)])
    (table,) = rows(path, "select table_name from duckdb_tables() where schema_name = 'raw'")
    assert table == (stream,)
    columns = [r[0] for r in rows(path, f'describe raw."{stream.replace(chr(34), 2 * chr(34))}"')]
    assert columns[:5] == ['we"ird', "it's", "Name", "name_2", "_airbyte_meta_2"]
    (row,) = rows(path, f'select * from raw."{stream.replace(chr(34), 2 * chr(34))}"')
    assert row[:5] == ("q", None, "A", "b", "m")
    assert json.loads(row[-1])["changes"][0]["field"] == "it's"


def parsed_lines(*lines: bytes) -> list:
    """Messages as the destination reads them from its stdin (record lines cut, not parsed)."""
    return list(read_messages(io.BytesIO(b"\n".join(lines) + b"\n")))


def record_line(data: bytes, emitted_at: int, stream: bytes = b"s") -> bytes:
    return b'{"type":"RECORD","record":{"stream":"%s","data":%s,"emitted_at":%d}}' % (
        stream,
        data,
        emitted_at,
    )


def test_record_lines_are_typed_from_their_text_as_a_parser_would(tmp_path):
    path = tmp_path / "w.duckdb"
    messages = parsed_lines(
        record_line(b'{"id":"twice","n":1,"n":2,"x":1.5}', EMITTED_AT),  # last value wins
        record_line(b"{}", EMITTED_AT + 1),
        record_line(b'{"id":"key","_airbyte_emitted_at_ms":5,"n":3}', EMITTED_AT + 2),
        record_line(
            b'{"id":"tail\\",\\"emitted_at\\":9}}","obj":{"emitted_at":3}}', EMITTED_AT + 3
        ),
        b'{"type": "RECORD", "record": {"stream": "s", "data": {"id": "spaced", "n": 4}, '
        b'"emitted_at": %d, "meta": {"changes": []}}}' % (EMITTED_AT + 4),
        record_line(b'{"id":"ok","at":"2022-12-27T08:12:59Z","tags":[1]}', EMITTED_AT + 5),
    )
    # Runs of lines in the CDK's layout reach the writer as text; another layout is parsed.
    runs = [(type(m).__name__, getattr(m, "count", 1)) for m in messages]
    assert runs == [("RecordLines", 4), ("RecordLine", 1), ("RecordLines", 1)]
    write(path, catalog(("s", "append")), messages)
    result = rows(
        path,
        "select id, n, x, obj::varchar, tags::varchar, epoch_ms(_airbyte_extracted_at), "
        "_airbyte_meta::varchar from raw.s order by _airbyte_extracted_at",
    )
    meta = '{"changes":[]}'
    assert result == [
        ("twice", 2, 1.5, None, None, EMITTED_AT, meta),
        (None, None, None, None, None, EMITTED_AT + 1, meta),
        ("key", 3, None, None, None, EMITTED_AT + 2, meta),
        ('tail","emitted_at":9}}', None, None, '{"emitted_at":3}', None, EMITTED_AT + 3, meta),
        ("spaced", 4, None, None, None, EMITTED_AT + 4, meta),
        ("ok", None, None, None, "[1]", EMITTED_AT + 5, meta),
    ]


def test_record_lines_of_interleaved_streams_reach_each_streams_table(tmp_path):
    path = tmp_path / "w.duckdb"
    streams = [b"t" if i % 3 == 2 else b"s" for i in range(7)]
    messages = parsed_lines(
        *(record_line(b'{"id":"%d"}' % i, EMITTED_AT, streams[i]) for i in range(7))
    )
    runs = [(m.stream, m.count) for m in messages]
    assert runs == [("s", 2), ("t", 1), ("s", 2), ("t", 1), ("s", 1)]
    write(path, catalog(("s", "append"), ("t", "append")), messages)
    assert rows(path, "select id from raw.t order by id") == [("2",), ("5",)]
    assert len(rows(path, "select id from raw.s")) == 5


def test_a_record_whose_data_is_not_json_fails_the_write_naming_the_stream(tmp_path):
    messages = parsed_lines(record_line(b'{"id":"a" "n":1}', EMITTED_AT))
    with pytest.raises(Exception, match="Stream 's': a record's data is not a JSON object"):
        write(tmp_path / "w.duckdb", catalog(("s", "append")), messages)


def test_batches_are_staged_beside_the_database_and_a_killed_syncs_leftovers_cleared(tmp_path):
    path = tmp_path / "w.duckdb"
    leftover = tmp_path / ".w.duckdb.staging"  # what a sync killed while loading leaves
    leftover.mkdir()
    (leftover / "0.jsonl").write_text('{"_airbyte_emitted_at_ms":1,"id":"from a killed sync"}')
    write(path, catalog(("s", "append")), [record("s", {"id": "a"}), state("s")])
    assert rows(path, "select id from raw.s") == [("a",)]
    assert not leftover.exists()


def test_a_memory_limit_duckdb_cannot_read_is_a_config_error_naming_the_field(tmp_path):
    with pytest.raises(AirbyteTracedException, match="'memory_limit'") as raised:
        write(tmp_path / "w.duckdb", catalog(("s", "append")), [], memory_limit="lots")
    assert raised.value.failure_type == FailureType.config_error


def test_a_thread_count_duckdb_cannot_take_is_a_config_error_naming_the_field(tmp_path):
    with pytest.raises(AirbyteTracedException, match="'threads'") as raised:
        write(tmp_path / "w.duckdb", catalog(("s", "append")), [], threads="lots")
    assert raised.value.failure_type == FailureType.config_error


def test_a_record_of_an_unknown_stream_fails_the_write(tmp_path):
    with pytest.raises(Exception, match="not in the catalog"):
        write(tmp_path / "w.duckdb", catalog(("s", "append")), [record("other", {"id": "a"})])


def test_source_mailchimp_piped_into_destination_duckdb(tmp_path, mock_api):
    """The two console scripts as real processes, as the pipeline runs them."""
    source_config = tmp_path / "source.json"
    source_config.write_text(
        json.dumps({"apikey": mock_api.mailchimp_api_key, "base_url": mock_api.mailchimp_base_url})
    )
    discovered = subprocess.run(
        [console_script("source-mailchimp"), "discover", "--config", source_config],
        capture_output=True,
        check=True,
        timeout=120,
    )
    (catalog_message,) = [
        json.loads(line) for line in discovered.stdout.splitlines() if b'"CATALOG"' in line
    ]
    configured = {
        "streams": [
            {
                "stream": stream,
                "sync_mode": "full_refresh",
                "destination_sync_mode": "overwrite",
                "primary_key": stream["source_defined_primary_key"],
            }
            for stream in catalog_message["catalog"]["streams"]
        ]
    }
    catalog_path = tmp_path / "catalog.json"
    catalog_path.write_text(json.dumps(configured))
    warehouse = tmp_path / "w.duckdb"
    destination_config = tmp_path / "destination.json"
    destination_config.write_text(
        json.dumps({"destination_path": str(warehouse), "schema": "raw_mailchimp"})
    )
    source = subprocess.Popen(
        [
            console_script("source-mailchimp"),
            "read",
            "--config",
            source_config,
            "--catalog",
            catalog_path,
        ],
        stdout=subprocess.PIPE,
    )
    destination = subprocess.run(
        [
            *(console_script("destination-duckdb"), "write"),
            *("--config", destination_config, "--catalog", catalog_path),
        ],
        stdin=source.stdout,
        capture_output=True,
        timeout=300,
    )
    source.stdout.close()
    assert source.wait(timeout=60) == 0
    assert destination.returncode == 0, destination.stderr.decode()[-2000:]
    committed = [json.loads(line) for line in destination.stdout.splitlines() if b'"STATE"' in line]
    # Every stream's state comes back committed (incremental streams: one per partition read).
    committed_streams = {m["state"]["stream"]["stream_descriptor"]["name"] for m in committed}
    assert committed_streams == {s["stream"]["name"] for s in configured["streams"]}
    counts = mock_api.truth()["counts"]
    for stream in ("lists", "list_members", "campaigns", "email_activity"):
        assert rows(warehouse, f"select count(*) from raw_mailchimp.{stream}") == [
            (counts[stream],)
        ], stream
    assert rows(
        warehouse,
        "select count(*) from (select distinct campaign_id, email_id, action, timestamp "
        "from raw_mailchimp.email_activity)",
    ) == [(counts["email_activity"],)]


def test_a_refused_batch_is_restaged_and_the_batches_before_it_loaded_again(tmp_path):
    """A batch DuckDB's reader refuses aborts the open transaction: the batches loaded since the
    last commit are loaded again with it, so none of them is lost and none doubled."""
    path = tmp_path / "w.duckdb"
    lines = [record_line(b'{"id":"%d","n":%d}' % (i, i), EMITTED_AT) for i in range(25)]
    lines[22] = record_line(b'{"id":"22","n":1,"n":22}', EMITTED_AT)  # refused by DuckDB
    messages = [
        *parsed_lines(*lines[:5]),
        state("s"),
        *parsed_lines(*lines[5:15]),  # a batch loaded, not committed
        *parsed_lines(*lines[15:]),  # the refused batch
    ]
    config = {"destination_path": str(path), "schema": "raw", "batch_size": 10}
    out = list(DestinationDuckdb().write(config, catalog(("s", "append")), messages))
    assert [m.type for m in out] == [Type.STATE]
    assert rows(path, "select count(*), count(distinct id), sum(n) from raw.s") == [
        (25, 25, sum(range(25)))
    ]
    assert not list(tmp_path.glob(".w.duckdb.staging*"))
