"""Run Airbyte's published MailChimp, HubSpot or Google Sheets connector against a running mock.

    python -m testbench.official_connectors mailchimp --mock-url http://127.0.0.1:8765

Installs it into its own environment (first time only), points it at the mock, then runs check,
discover and a read of every stream (incremental where it offers it), and prints the records per
stream. ``--state FILE`` reads on from a state file the previous run wrote (``--save-state``).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from collections import Counter
from pathlib import Path

from testbench.official_connectors import (
    CONFIGS,
    OFFICIAL,
    configured_catalog,
    install,
    per_stream_state,
    run,
)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m testbench.official_connectors")
    parser.add_argument("source", choices=sorted(CONFIGS))
    parser.add_argument("--mock-url", default="http://127.0.0.1:8765")
    parser.add_argument("--state", type=Path, help="read on from this state file")
    parser.add_argument("--save-state", type=Path, help="write the read's final state here")
    args = parser.parse_args(argv)
    connector = OFFICIAL[args.source]
    executable = install(connector, args.mock_url)
    with tempfile.TemporaryDirectory() as folder:
        work = Path(folder)
        (work / "config.json").write_text(json.dumps(CONFIGS[args.source]))
        for message in run(executable, "check", "--config", "config.json", cwd=work):
            if message["type"] == "CONNECTION_STATUS":
                print("check:", message["connectionStatus"]["status"])
        discover = run(executable, "discover", "--config", "config.json", cwd=work)
        streams = next(m["catalog"]["streams"] for m in discover if m["type"] == "CATALOG")
        (work / "catalog.json").write_text(json.dumps(configured_catalog(streams)))
        read = ["read", "--config", "config.json", "--catalog", "catalog.json"]
        if args.state:
            read += ["--state", str(args.state.resolve())]
        messages = run(executable, *read, cwd=work)
    counts = Counter(m["record"]["stream"] for m in messages if m["type"] == "RECORD")
    errors = [
        m for m in messages if m["type"] == "EXIT" or m.get("trace", {}).get("type") == "ERROR"
    ]
    for stream in sorted(s["name"] for s in streams):
        print(f"{stream:32} {counts[stream]:>8}")
    if args.save_state:
        args.save_state.write_text(json.dumps(per_stream_state(messages)))
    for error in errors:
        detail = error.get("stderr") or error.get("trace", {}).get("error", {})
        text = detail if isinstance(detail, str) else detail.get("internal_message") or detail
        print("error:", str(text)[:600])
    print(f"{len(streams)} streams, {sum(counts.values())} records, {len(errors)} errors")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
