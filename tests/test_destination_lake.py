"""destination-lake writing synthetic messages into a lake folder, and one real source pipe."""

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
    Status,
    Type,
)
from airbyte_cdk.utils.traced_exception import AirbyteTracedException
from destination_lake import DestinationLake

from pipeline.sync import configure_catalog, connector_command, discover, private_files

logger = logging.getLogger("airbyte")
EMITTED_AT = 1_700_000_000_000  # 2023-11-14T22:13:20Z
DAY = "2024-01-02"
SCHEMA = {
    "type": "object",
    "properties": {
        "id": {"type": ["null", "string"]},
        "n": {"type": ["null", "integer"]},
        "ok": {"type": ["null", "boolean"]},
        "seen_at": {"type": ["null", "string"], "format": "date-time"},
        "obj": {"type": ["null", "object"]},
    },
}


def catalog(*names: str) -> ConfiguredAirbyteCatalog:
    return ConfiguredAirbyteCatalogSerializer.load(
        {
            "streams": [
                {
                    "stream": {"name": name, "json_schema": SCHEMA, "supported_sync_modes": []},
                    "sync_mode": "incremental",
                    "destination_sync_mode": "append",
                }
                for name in names
            ]
        }
    )


def record(stream: str, i: int) -> AirbyteMessage:
    data = {
        "id": f"r{i}",
        "n": i,
        "ok": True,
        "seen_at": "2024-01-01T08:12:59+00:00",
        "obj": {"k": i},
    }
    return AirbyteMessageSerializer.load(
        {"type": "RECORD", "record": {"stream": stream, "data": data, "emitted_at": EMITTED_AT}}
    )


def state(stream: str, position: int) -> AirbyteMessage:
    descriptor = {"stream_descriptor": {"name": stream}, "stream_state": {"position": position}}
    return AirbyteMessageSerializer.load(
        {"type": "STATE", "state": {"type": "STREAM", "stream": descriptor}}
    )


def lake_config(lake: Path, **overrides: Any) -> dict[str, Any]:
    return {"lake_root": str(lake), "ingest_date": DAY, **overrides}


def partition(lake: Path, stream: str = "s") -> Path:
    return lake / "bronze" / stream / f"ingest_date={DAY}"


def write(lake: Path, messages: Iterable[AirbyteMessage], **config: Any) -> list[AirbyteMessage]:
    return list(DestinationLake().write(lake_config(lake, **config), catalog("s"), messages))


def landed(lake: Path, extension: str = "parquet") -> list[tuple]:
    with duckdb.connect() as con:
        return con.execute(
            f"select * from '{partition(lake)}/*.{extension}' order by id"
        ).fetchall()


def test_spec_requires_the_lake_root_and_offers_both_formats():
    spec = DestinationLake().spec(logger)
    properties = spec.connectionSpecification["properties"]
    assert spec.connectionSpecification["required"] == ["lake_root"]
    assert properties["format"]["enum"] == ["parquet", "jsonl"]
    assert properties["format"]["default"] == "parquet"
    assert "batch_size" in properties


def test_check_leaves_no_probe_and_fails_on_a_file(tmp_path):
    assert DestinationLake().check(logger, lake_config(tmp_path)).status == Status.SUCCEEDED
    assert list((tmp_path / "bronze").iterdir()) == []
    (tmp_path / "a_file").write_text("not a folder")
    failed = DestinationLake().check(logger, lake_config(tmp_path / "a_file"))
    assert failed.status == Status.FAILED


def test_rows_are_the_fields_as_delivered_plus_the_airbyte_columns(tmp_path):
    write(tmp_path, [record("s", 1)])
    with duckdb.connect() as con:
        columns = con.execute(
            f"select column_name, column_type from (describe select * from "
            f"read_parquet('{partition(tmp_path)}/*.parquet', hive_partitioning = true))"
        ).fetchall()
        (row,) = con.execute(
            f"select id, n, ok, seen_at, obj, _airbyte_extracted_at, ingest_date "
            f"from read_parquet('{partition(tmp_path)}/*.parquet', hive_partitioning = true)"
        ).fetchall()
    assert [name for name, _ in columns] == [
        *SCHEMA["properties"],
        "_airbyte_raw_id",
        "_airbyte_extracted_at",
        "ingest_date",  # the partition folder
    ]
    assert dict(columns)["seen_at"] == "VARCHAR"  # a date-time stays the string that was delivered
    assert row[:5] == ("r1", 1, True, "2024-01-01T08:12:59+00:00", '{"k":1}')
    assert row[5].isoformat() == "2023-11-14T22:13:20+00:00"
    assert str(row[6]) == DAY


def test_state_is_passed_on_only_after_the_files_before_it_landed(tmp_path):
    def messages() -> Iterable[AirbyteMessage]:
        yield from (record("s", i) for i in range(5))
        yield state("s", 5)
        yield from (record("s", i) for i in range(5, 7))

    output = DestinationLake().write(lake_config(tmp_path, batch_size=2), catalog("s"), messages())
    first = next(output)
    assert first.type == Type.STATE
    assert len(landed(tmp_path)) == 5  # everything before the state, and no temporary file
    assert all(not p.name.startswith(".") for p in partition(tmp_path).iterdir())
    assert list(output) == []
    assert len(landed(tmp_path)) == 7
    assert len(list(partition(tmp_path).glob("part-*.parquet"))) == 4  # 2 + 2 + 1 | 2


def test_landed_files_never_change_and_a_replay_lands_nothing_new(tmp_path):
    messages = [record("s", i) for i in range(3)] + [state("s", 3)]
    write(tmp_path, messages, batch_size=2)
    before = {p.name: (p.stat().st_ino, p.read_bytes()) for p in partition(tmp_path).iterdir()}
    rows = landed(tmp_path)

    write(tmp_path, messages, batch_size=2)  # the same input replayed (a retried sync)
    after = {p.name: (p.stat().st_ino, p.read_bytes()) for p in partition(tmp_path).iterdir()}
    assert after == before
    assert landed(tmp_path) == rows

    write(tmp_path, [record("s", 9)])  # new input adds a file, beside the others
    assert len(list(partition(tmp_path).iterdir())) == len(before) + 1
    for name, (inode, content) in before.items():
        path = partition(tmp_path) / name
        assert (path.stat().st_ino, path.read_bytes()) == (inode, content)


def test_jsonl_format_lands_the_same_rows(tmp_path):
    write(tmp_path / "p", [record("s", 1), record("s", 2)])
    write(tmp_path / "j", [record("s", 1), record("s", 2)], format="jsonl")
    (jsonl_file,) = partition(tmp_path / "j").glob("part-*.jsonl")
    jsonl_rows = [json.loads(line) for line in jsonl_file.read_text().splitlines()]
    parquet_rows = landed(tmp_path / "p")
    assert [tuple(row.values())[:5] for row in jsonl_rows] == [row[:5] for row in parquet_rows]
    assert [row["_airbyte_raw_id"] for row in jsonl_rows] == [row[5] for row in parquet_rows]
    assert jsonl_rows[0]["_airbyte_extracted_at"] == "2023-11-14T22:13:20+00:00"


def test_a_record_of_an_unknown_stream_fails_the_write(tmp_path):
    with pytest.raises(AirbyteTracedException, match="not in the catalog"):
        write(tmp_path, [record("other", 1)])


def test_a_stream_name_that_is_not_one_folder_is_refused(tmp_path):
    with pytest.raises(AirbyteTracedException, match="cannot be a lake folder"):
        list(DestinationLake().write(lake_config(tmp_path), catalog("../escape"), []))


def test_source_mailchimp_piped_into_destination_lake(tmp_path, mock_api):
    """The two console scripts as real processes, with the pipeline's own discovery and catalog."""
    source_config = {"apikey": mock_api.mailchimp_api_key, "base_url": mock_api.mailchimp_base_url}
    configured = configure_catalog(discover("source-mailchimp", source_config), ["email_activity"])
    lake = tmp_path / "lake"
    with private_files(
        source=source_config, destination=lake_config(lake), catalog=configured
    ) as files:
        source = subprocess.Popen(
            [*connector_command("source-mailchimp"), "read", "--config", files["source"]]
            + ["--catalog", files["catalog"]],
            stdout=subprocess.PIPE,
        )
        destination = subprocess.run(
            [*connector_command("destination-lake"), "write", "--config", files["destination"]]
            + ["--catalog", files["catalog"]],
            stdin=source.stdout,
            capture_output=True,
            timeout=300,
        )
        source.stdout.close()
        assert source.wait(timeout=60) == 0
    assert destination.returncode == 0, destination.stderr.decode()[-2000:]
    assert b'"STATE"' in destination.stdout
    expected = mock_api.truth()["counts"]["email_activity"]
    with duckdb.connect() as con:
        (count, distinct) = con.execute(
            "select count(*), count(distinct (campaign_id, email_id, action, timestamp)) "
            f"from '{partition(lake, 'email_activity')}/*.parquet'"
        ).fetchone()
    assert count == distinct == expected
