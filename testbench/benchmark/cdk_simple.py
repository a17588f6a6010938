"""The baseline: a plain CDK ``HttpStream`` piped into a simple Python DuckDB writer.

What a first connector written from the CDK tutorial looks like: ``response.json()``, the CDK's
defaults everywhere, records written one JSON line each by the CDK entrypoint; and a writer that
reads the lines with ``json``, keeps nested values as JSON text and inserts Arrow batches of
10,000 rows (not ``executemany``, which would make the baseline trivially slow).

    python -m testbench.benchmark.cdk_simple read --config cfg.json --catalog catalog.json |
        python -m testbench.benchmark.cdk_simple write --database simple.duckdb
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable, Mapping
from typing import Any

import requests

from testbench.benchmark.measure import emit
from testbench.benchmark.paging import PAGE_SIZE, STREAM, members_path, page_params

BATCH = 10_000


def _source():
    # Imported here: the writer side must not pay for the CDK's import.
    from airbyte_cdk.sources import AbstractSource
    from airbyte_cdk.sources.streams.http import HttpStream
    from airbyte_cdk.sources.streams.http.requests_native_auth import BasicHttpAuthenticator
    from source_mailchimp.schemas import LIST_MEMBERS

    class Members(HttpStream):
        name = STREAM
        primary_key = ["id", "list_id"]

        def __init__(self, config: Mapping[str, Any]) -> None:
            self._base = config["base_url"].rstrip("/") + "/"
            self._apikey = config["apikey"]
            auth = BasicHttpAuthenticator(username="anystring", password=config["apikey"])
            super().__init__(authenticator=auth)

        @property
        def url_base(self) -> str:
            return self._base

        def get_json_schema(self) -> Mapping[str, Any]:
            return LIST_MEMBERS

        def stream_slices(self, **_: Any) -> Iterable[Mapping[str, Any]]:
            lists = requests.get(
                f"{self._base}lists", auth=("anystring", self._apikey), timeout=60
            ).json()["lists"]
            for audience in lists:
                yield {"list_id": audience["id"]}

        def path(self, stream_slice: Mapping[str, Any] | None = None, **_: Any) -> str:
            return members_path(stream_slice["list_id"])

        def request_params(self, next_page_token=None, **_: Any):
            return page_params(next_page_token or 0)

        def next_page_token(self, response: requests.Response):
            body = response.json()
            if len(body["members"]) < PAGE_SIZE:
                return None
            return int(response.request.url.split("offset=")[1].split("&")[0]) + PAGE_SIZE

        def parse_response(self, response: requests.Response, **_: Any):
            yield from response.json()["members"]

    class SimpleSource(AbstractSource):
        def spec(self, logger):
            from airbyte_cdk.models import ConnectorSpecification

            return ConnectorSpecification(connectionSpecification={"type": "object"})

        def check_connection(self, logger, config):
            return True, None

        def streams(self, config):
            return [Members(config)]

    return SimpleSource()


def read(argv: list[str]) -> int:
    from airbyte_cdk.entrypoint import launch

    launch(_source(), ["read", *argv])
    return 0


def write(database: str) -> int:
    import duckdb
    import pyarrow as pa

    con = duckdb.connect(database)
    con.execute(f"DROP TABLE IF EXISTS {STREAM}")
    created, records, batch = False, 0, []

    def insert(rows: list[dict[str, Any]]) -> None:
        nonlocal created
        table = pa.Table.from_pylist(rows)
        con.register("batch", table)
        if not created:
            con.execute(f"CREATE TABLE {STREAM} AS SELECT * FROM batch")
            created = True
        else:
            con.execute(f"INSERT INTO {STREAM} BY NAME SELECT * FROM batch")
        con.unregister("batch")

    for line in sys.stdin:
        message = json.loads(line)
        if message.get("type") != "RECORD":
            continue
        data = message["record"]["data"]
        batch.append(
            {k: json.dumps(v) if isinstance(v, dict | list) else v for k, v in data.items()}
        )
        records += 1
        if len(batch) >= BATCH:
            insert(batch)
            batch = []
    if batch:
        insert(batch)
    con.close()
    emit({"records": records})
    return 0


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["read"]:
        return read(argv[1:])
    if argv[:1] == ["write"] and len(argv) == 3 and argv[1] == "--database":
        return write(argv[2])
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
