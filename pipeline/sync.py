"""Run an Airbyte sync: ``source read | destination write``, the way the Airbyte platform does.

The source and the destination are separate processes that speak the Airbyte protocol (JSON lines
on stdout/stdin). Between them sits the orchestrator, which is this module:

* RECORD, STATE and stream-status TRACE messages go from the source to the destination;
* LOG and TRACE messages from either side are logged, and a source's error TRACE becomes the
  sync's failure cause;
* a STATE message that comes back out of the destination has been committed there, so only then is
  it persisted as the connection's state, at once; a crash (even of this process) therefore
  resumes from the last committed state, and the next sync passes that state to the source.

The connectors are console scripts installed in this project's environment; the same commands
run any Airbyte connector image's entrypoint.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import importlib.util
import logging
import os
import queue
import subprocess
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson
from connector_kit.protocol_lines import OTHER_LINE, RECORD_STREAMS

from pipeline.executables import NotInstalledError, console_script

log = logging.getLogger(__name__)


class SyncError(RuntimeError):
    """A sync failed: the message says which side and why (never with credentials in it)."""


@dataclass
class SyncResult:
    source: str
    records_per_stream: dict[str, int] = field(default_factory=dict)
    state_messages: int = 0

    @property
    def records(self) -> int:
        return sum(self.records_per_stream.values())


def connector_command(name: str) -> list[str]:
    """The command line of a connector installed as a console script in this environment."""
    try:
        return [console_script(name)]
    except NotInstalledError:
        raise SyncError(f"connector {name!r} is not installed (run `make install`)") from None


@contextmanager
def private_files(**documents: Any) -> Iterator[dict[str, Path]]:
    """Write JSON documents (configs hold credentials) to a private folder, deleted after."""
    with tempfile.TemporaryDirectory(prefix="airbyte-") as folder:
        os.chmod(folder, 0o700)
        paths = {}
        for name, document in documents.items():
            path = Path(folder) / f"{name}.json"
            path.write_bytes(orjson.dumps(document))
            path.chmod(0o600)
            paths[name] = path
        yield paths


def run_protocol_command(
    command: list[str], *args: str, env: Mapping[str, str] | None = None
) -> list[dict[str, Any]]:
    """Run a short connector command (spec, check, discover) and return its protocol messages.

    ``env`` is the connector's environment (None: this process's own)."""
    completed = subprocess.run([*command, *args], capture_output=True, check=False, env=env)
    messages = [_parse(line) for line in completed.stdout.splitlines() if line.startswith(b"{")]
    errors = [m for m in messages if m.get("type") == "TRACE" and "error" in m.get("trace", {})]
    if completed.returncode != 0 or errors:
        cause = errors[0]["trace"]["error"]["message"] if errors else completed.stderr[-500:]
        raise SyncError(f"{command[0].rsplit('/', 1)[-1]} {args[0]} failed: {cause}")
    return messages


def discover(
    source: str,
    config: dict[str, Any],
    env: Mapping[str, str] | None = None,
    cache: Path | None = None,
) -> dict[str, Any]:
    """The source's catalog (``discover``), reused from ``cache`` while it is still valid.

    A discover is a process of its own (its start alone, importing the CDK, is most of a small
    incremental sync). Like the Airbyte platform, which keeps a connection's catalog and
    re-discovers on a schedule, a catalog kept in ``cache`` is reused while the connector's code
    (its spec and stream schemas) and the config are those it was discovered with, for at most
    ``DISCOVER_MAX_AGE_S``; otherwise the source is asked again and the cache rewritten.
    """
    key = _discover_key(source, config) if cache is not None else None
    if cache is not None and key is not None:
        catalog = _cached_catalog(cache, key)
        if catalog is not None:
            return catalog
    with private_files(config=config) as files:
        messages = run_protocol_command(
            connector_command(source), "discover", "--config", str(files["config"]), env=env
        )
    catalogs = [m["catalog"] for m in messages if m.get("type") == "CATALOG"]
    if not catalogs:
        raise SyncError(f"{source} discover returned no catalog")
    if cache is not None and key is not None:
        cache.parent.mkdir(parents=True, exist_ok=True)
        partial = cache.with_suffix(".tmp")
        partial.write_bytes(orjson.dumps({"key": key, "catalog": catalogs[0]}))
        partial.replace(cache)
    return catalogs[0]


# A kept catalog is discovered again after a day even if nothing changed: a source whose schemas
# come from the API (new custom properties) is then at most a day late, as on Airbyte's platform.
DISCOVER_MAX_AGE_S = 24 * 3600


def _discover_key(source: str, config: dict[str, Any]) -> str | None:
    """What a catalog depends on: the connector's files and the config, as one digest.

    None when the connector is not a package of this environment (its code cannot be read):
    such a source is always asked. The config (credentials) enters the digest only: the cache
    file holds the digest and the catalog, never the config.
    """
    package = _connector_package(source)
    if package is None:
        return None
    digest = hashlib.sha256(source.encode())
    for path in sorted(package.rglob("*")):
        if path.suffix in (".py", ".json", ".yaml") and "__pycache__" not in path.parts:
            digest.update(path.relative_to(package).as_posix().encode())
            digest.update(path.read_bytes())
    digest.update(orjson.dumps(config, option=orjson.OPT_SORT_KEYS))
    return digest.hexdigest()


def _connector_package(source: str) -> Path | None:
    """The folder of the package behind a connector's console script, without importing it."""
    scripts = importlib.metadata.entry_points(group="console_scripts", name=source)
    for script in scripts:
        spec = importlib.util.find_spec(script.module.split(".")[0])
        if spec is not None and spec.submodule_search_locations:
            return Path(next(iter(spec.submodule_search_locations)))
    return None


def _cached_catalog(cache: Path, key: str) -> dict[str, Any] | None:
    try:
        if time.time() - cache.stat().st_mtime > DISCOVER_MAX_AGE_S:
            return None
        kept = orjson.loads(cache.read_bytes())
    except (OSError, orjson.JSONDecodeError):
        return None  # no cache yet, or a damaged one: discover again
    if not isinstance(kept, dict) or kept.get("key") != key:
        return None
    return kept.get("catalog")


def configure_catalog(
    catalog: dict[str, Any], streams: list[str] | None = None, append_only: bool = False
) -> dict[str, Any]:
    """Select streams and sync modes.

    A stream that supports incremental sync reads only what changed since the saved state and is
    deduplicated on its primary key in the destination (incremental + append_dedup); any other
    stream is read whole and replaced at the end (full_refresh + overwrite). An append-only
    destination (the lake's bronze, a log of extractions) gets every stream as append: it
    neither deduplicates nor replaces; its readers do.
    """
    configured = []
    for stream in catalog["streams"]:
        if streams is not None and stream["name"] not in streams:
            continue
        incremental = "incremental" in stream.get("supported_sync_modes", [])
        configured.append(
            {
                "stream": stream,
                "sync_mode": "incremental" if incremental else "full_refresh",
                "destination_sync_mode": "append"
                if append_only
                else ("append_dedup" if incremental else "overwrite"),
                "primary_key": stream.get("source_defined_primary_key", []),
                "cursor_field": stream.get("default_cursor_field", []),
            }
        )
    return {"streams": configured}


def run_sync(
    source: str,
    source_config: dict[str, Any],
    destination_config: dict[str, Any],
    catalog: dict[str, Any],
    state_path: Path,
    destination: str = "destination-duckdb",
    progress: Callable[[dict[str, int]], None] | None = None,
    env: Mapping[str, str] | None = None,
) -> SyncResult:
    """Pipe ``source read`` into ``<destination> write`` and persist the committed state.

    ``progress``, if given, is called with the records per stream so far, as blocks of records
    pass (the CLI draws its progress bars with it). ``env`` is the connectors' environment (None:
    this process's own).
    """
    store = StateStore(state_path)
    state = store.messages() or None
    result = SyncResult(source=source)
    with private_files(
        source_config=source_config,
        destination_config=destination_config,
        catalog=catalog,
        **({"state": state} if state is not None else {}),
    ) as files:
        read_args = ["read", "--config", str(files["source_config"])]
        read_args += ["--catalog", str(files["catalog"])]
        if "state" in files:
            read_args += ["--state", str(files["state"])]
        write_args = ["write", "--config", str(files["destination_config"])]
        write_args += ["--catalog", str(files["catalog"])]

        folder = files["source_config"].parent
        with (
            (folder / "source.stderr").open("w+b") as source_stderr_file,
            (folder / "destination.stderr").open("w+b") as destination_stderr_file,
        ):
            # stderr goes to files: a pipe nobody drains could fill up and block a connector.
            destination_process = subprocess.Popen(
                [*connector_command(destination), *write_args],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=destination_stderr_file,
                env=env,
            )
            source_process = subprocess.Popen(
                [*connector_command(source), *read_args],
                stdout=subprocess.PIPE,
                stderr=source_stderr_file,
                env=env,
            )
            destination_errors: list[str] = []
            reader = threading.Thread(
                target=_collect_destination_output,
                args=(destination_process.stdout, store, destination_errors),
                daemon=True,
            )
            reader.start()
            try:
                source_errors = _pump(
                    source_process.stdout, destination_process.stdin, result, progress
                )
            except BrokenPipeError:
                # The destination died: stop the source; the destination's error says why.
                source_process.kill()
                source_errors = []
            source_code = source_process.wait()
            with suppress(BrokenPipeError):
                destination_process.stdin.close()
            destination_code = destination_process.wait()
            reader.join()
            source_stderr = _tail(source_stderr_file)
            destination_stderr = _tail(destination_stderr_file)

    result.state_messages = store.committed

    # The destination first: when it dies, the source is stopped and fails only because of it.
    if destination_errors or destination_code != 0:
        cause = destination_errors[0] if destination_errors else destination_stderr[-500:]
        raise SyncError(f"{destination} write failed: {cause}")
    if source_errors or source_code != 0:
        cause = source_errors[0] if source_errors else source_stderr[-500:]
        raise SyncError(f"{source} read failed: {cause}")
    return result


# Record lines are forwarded in blocks of bytes, never one by one: a record line in the CDK's layout
# is found and counted by its head, which names its stream (connector_kit.protocol_lines); any
# other line (state, logs, traces, a record in another layout) is handled on its own.
# Blocks in flight between the source and the destination (each at most a pipe's read, ~64 KB):
# the source keeps reading while the destination loads a batch, as on the Airbyte platform.
BUFFERED_BLOCKS = 1024


def _pump(source_out, destination_in, result: SyncResult, progress=None) -> list[str]:
    """Forward records, state and stream statuses; log the rest; return the source's errors.

    ``progress``, if given, is called with the records per stream so far after every block
    that held records.
    """
    errors: list[str] = []
    counts = result.records_per_stream
    with _Forwarder(destination_in) as forward:
        for text in _line_blocks(source_out):
            streams = RECORD_STREAMS.findall(text)
            for name, count in Counter(streams).items():
                stream = name.decode()
                counts[stream] = counts.get(stream, 0) + count
            start = 1  # text starts with a newline of its own
            for other in OTHER_LINE.finditer(text):
                line = other.group(1)
                if not line:
                    continue  # the end of the block, or a blank line
                forward(text[start : other.start() + 1])  # the records before it
                start = other.end() + 1
                if _route(line, counts, errors):
                    forward(line + b"\n")
            forward(text[start:])
            if streams and progress is not None:
                progress(counts)
    if progress is not None:
        progress(counts)
    return errors


def _line_blocks(source_out) -> Iterator[bytes]:
    """The source's output as blocks of whole lines, each block prefixed with a newline."""
    rest = b""
    while chunk := source_out.read1(1 << 20):
        block = rest + chunk
        end = block.rfind(b"\n") + 1
        if end:
            yield b"\n" + block[:end]
        rest = block[end:]
    if rest:
        yield b"\n" + rest + b"\n"


def _route(line: bytes, counts: dict[str, int], errors: list[str]) -> bool:
    """A line that is not a record in the CDK's layout: True if it goes to the destination."""
    if not line.startswith(b"{"):
        return False
    message = _parse(line)
    kind = message.get("type")
    if kind == "STATE":
        return True
    if kind == "RECORD":
        stream = message["record"]["stream"]
        counts[stream] = counts.get(stream, 0) + 1
        return True
    if kind == "TRACE" and "stream_status" in message.get("trace", {}):
        # The destination swaps a fully refreshed stream in when its source says COMPLETE.
        return True
    if kind == "TRACE" and "error" in message.get("trace", {}):
        errors.append(message["trace"]["error"].get("message", "unknown error"))
    elif kind == "LOG":
        _log_connector(message["log"])
    return False


class _Forwarder:
    """Writes blocks to the destination from a thread of its own, through a bounded queue.

    A destination loading a batch reads nothing for a while; without this the source would stall
    on a full pipe meanwhile. If the destination dies, the next call raises ``BrokenPipeError``.
    """

    def __init__(self, destination_in) -> None:
        self._out = destination_in
        self._blocks: queue.Queue[bytes | None] = queue.Queue(maxsize=BUFFERED_BLOCKS)
        self._broken = False
        self._thread = threading.Thread(target=self._write, daemon=True)

    def __enter__(self) -> Callable[[bytes], None]:
        self._thread.start()
        return self

    def __call__(self, block: bytes) -> None:
        if self._broken:
            raise BrokenPipeError("the destination stopped reading")
        if block:
            self._blocks.put(block)

    def __exit__(self, *exc_info: object) -> None:
        self._blocks.put(None)
        self._thread.join()
        if self._broken and exc_info[0] is None:
            raise BrokenPipeError("the destination stopped reading")

    def _write(self) -> None:
        while (block := self._blocks.get()) is not None:
            if self._broken:
                continue  # drain, so that the pump never blocks on a dead destination
            try:
                self._out.write(block)
            except (BrokenPipeError, OSError, ValueError):
                self._broken = True
        with suppress(BrokenPipeError, OSError, ValueError):
            self._out.flush()


def _collect_destination_output(out, store: StateStore, errors: list[str]) -> None:
    for line in out:
        if not line.startswith(b"{"):
            continue
        message = _parse(line)
        kind = message.get("type")
        if kind == "STATE":
            store.commit(message["state"])
        elif kind == "TRACE" and "error" in message.get("trace", {}):
            errors.append(message["trace"]["error"].get("message", "unknown error"))
        elif kind == "LOG":
            _log_connector(message["log"])


def _log_connector(entry: dict[str, Any]) -> None:
    level = getattr(logging, str(entry.get("level", "INFO")).upper(), logging.INFO)
    # Connector INFO chatter is debug for us; warnings and errors stay visible.
    log.log(logging.DEBUG if level <= logging.INFO else level, "%s", entry.get("message", ""))


class StateStore:
    """The connection's state file: the latest committed state message per stream.

    Each committed message is written at once (atomically, by rename), so the file always holds
    what the destination has committed, whatever stops the sync. Messages of streams this sync
    did not reach keep their previous value: losing them would make the next sync re-read those
    streams from the start.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self.committed = 0
        self._latest: dict[str, dict[str, Any]] = {}
        if path.exists():
            try:
                messages = orjson.loads(path.read_bytes())
                problem = "not a list of state messages"
            except orjson.JSONDecodeError as error:
                messages, problem = None, f"not valid JSON ({error})"
            if not (isinstance(messages, list) and all(isinstance(m, dict) for m in messages)):
                raise SyncError(
                    f"the state file {path} is {problem}: restore it, or delete it to run a "
                    "full sync"
                )
            for message in messages:
                self._latest[_state_key(message)] = message

    def messages(self) -> list[dict[str, Any]]:
        return list(self._latest.values())

    def commit(self, message: dict[str, Any]) -> None:
        self._latest[_state_key(message)] = message
        self.committed += 1
        self.path.parent.mkdir(parents=True, exist_ok=True)
        partial = self.path.with_suffix(".tmp")
        partial.write_bytes(orjson.dumps(self.messages(), option=orjson.OPT_INDENT_2))
        partial.replace(self.path)


def _state_key(message: dict[str, Any]) -> str:
    if message.get("type") == "STREAM":
        descriptor = message["stream"]["stream_descriptor"]
        return f"{descriptor.get('namespace') or ''}.{descriptor['name']}"
    return "__global__"


def _tail(file, size: int = 2000) -> str:
    file.seek(0, os.SEEK_END)
    file.seek(max(0, file.tell() - size))
    return file.read().decode(errors="replace").strip()


def _parse(line: bytes) -> dict[str, Any]:
    try:
        return orjson.loads(line)
    except orjson.JSONDecodeError:
        return {}
