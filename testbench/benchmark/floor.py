"""The floor of fetching: plain ``requests`` + ``orjson`` paging through the members, no CDK.

Nothing is loaded anywhere: this is what it costs to get the records off the wire and parsed,
the most any connector reading the same pages can hope for. With ``--dump`` the records are also
written as JSON lines (untimed use: the warm-up pass writes the file the DuckDB limit loads).

    python -m testbench.benchmark.floor --base-url http://127.0.0.1:8799/3.0 --apikey ... \\
        [--dump members.jsonl]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import orjson
import requests

from testbench.benchmark.measure import emit
from testbench.benchmark.paging import PAGE_SIZE, members_path, page_params


def fetch(base_url: str, apikey: str, dump: Path | None) -> int:
    session = requests.Session()
    session.auth = ("anystring", apikey)
    base = base_url.rstrip("/")
    lists = session.get(f"{base}/lists", params={"count": 1000}, timeout=(10, 120))
    lists.raise_for_status()
    records = 0
    out = dump.open("wb") if dump else None
    try:
        for audience in orjson.loads(lists.content)["lists"]:
            offset = 0
            while True:
                response = session.get(
                    f"{base}/{members_path(audience['id'])}",
                    params=page_params(offset),
                    timeout=(10, 600),
                )
                response.raise_for_status()
                members = orjson.loads(response.content)["members"]
                records += len(members)
                if out is not None:
                    out.write(b"\n".join(orjson.dumps(member) for member in members) + b"\n")
                if len(members) < PAGE_SIZE:
                    break
                offset += PAGE_SIZE
    finally:
        if out is not None:
            out.close()
    return records


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--base-url", required=True)
    parser.add_argument("--apikey", required=True)
    parser.add_argument("--dump", type=Path, help="also write the records as JSON lines here")
    args = parser.parse_args(argv)
    emit({"records": fetch(args.base_url, args.apikey, args.dump)})
    return 0


if __name__ == "__main__":
    sys.exit(main())
