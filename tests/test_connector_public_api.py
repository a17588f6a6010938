"""The connectors use the Airbyte CDK through its public API only.

- No class under connectors/ overrides an underscore method of a CDK class it inherits from: such
  a method is the CDK's to rename or drop in any release, and an override breaks silently then.
- Nothing under connectors/ replaces the process's stdout or stderr, or touches the CDK's
  ``PRINT_BUFFER``: the CDK owns its output.
- The one thing the public API cannot do (a destination's ``write`` fed without parsing every
  record into the protocol's dataclasses) lives in ``connector_kit.destination_launch``; it assumes
  that ``Destination.run`` does for ``write`` what that module does, checked here against the
  CDK, whose exact version pyproject.toml pins.
"""

import ast
import functools
import importlib
import importlib.metadata
import inspect
import io
import logging
import pkgutil
import re
import sys
import tomllib
from collections.abc import Iterable, Mapping
from pathlib import Path
from types import ModuleType
from typing import Any

import orjson
import pytest
from airbyte_cdk.destinations import Destination
from airbyte_cdk.logger import init_logger
from airbyte_cdk.models import (
    AirbyteMessage,
    AirbyteMessageSerializer,
    ConfiguredAirbyteCatalog,
    ConfiguredAirbyteCatalogSerializer,
    ConnectorSpecification,
    Type,
)
from airbyte_cdk.sources import AbstractSource
from airbyte_cdk.utils.traced_exception import AirbyteTracedException
from connector_kit.destination_launch import launch_destination
from destination_duckdb.destination import read_messages

ROOT = Path(__file__).resolve().parents[1]
CONNECTORS = ROOT / "connectors"
PACKAGES = sorted(p.name for p in CONNECTORS.iterdir() if (p / "__init__.py").exists())


# --- no overrides of the CDK's private methods ------------------------------------------------
def _modules() -> Iterable[ModuleType]:
    for package in PACKAGES:
        root = importlib.import_module(package)
        yield root
        for info in pkgutil.walk_packages(root.__path__, prefix=f"{package}."):
            yield importlib.import_module(info.name)


def _is_private(name: str) -> bool:
    return name.startswith("_") and not (name.startswith("__") and name.endswith("__"))


def _is_method(value: object) -> bool:
    """A function, or a descriptor made of one (``_abc_impl`` and other data are not)."""
    return inspect.isfunction(value) or isinstance(
        value, classmethod | staticmethod | property | functools.cached_property
    )


def private_cdk_overrides(cls: type) -> list[str]:
    """``Class._name (overrides airbyte_cdk...Base)`` for each underscore method ``cls`` defines
    that a CDK class among its bases defines too."""
    found = []
    for name, value in cls.__dict__.items():
        if not _is_private(name) or not _is_method(value):
            continue
        for base in cls.__mro__[1:]:
            if base.__module__.split(".")[0] == "airbyte_cdk" and name in base.__dict__:
                found.append(
                    f"{cls.__qualname__}.{name} (overrides {base.__module__}.{base.__name__})"
                )
                break
    return found


def test_the_checker_finds_an_override_of_a_private_cdk_method():
    class Overriding(AbstractSource):
        def _get_message(self, record, stream):  # the override connector_kit used to have
            raise NotImplementedError

        def _own_helper(self):  # not the CDK's: fine
            raise NotImplementedError

    class Inheriting(Overriding):  # inherits the override, defines none
        pass

    assert private_cdk_overrides(Overriding) == [
        "test_the_checker_finds_an_override_of_a_private_cdk_method.<locals>.Overriding."
        "_get_message (overrides airbyte_cdk.sources.abstract_source.AbstractSource)"
    ]
    assert private_cdk_overrides(Inheriting) == []


def test_no_connector_class_overrides_a_private_cdk_method():
    classes = {
        cls
        for module in _modules()
        for _, cls in inspect.getmembers(module, inspect.isclass)
        if cls.__module__ == module.__name__
    }
    assert len(classes) > 20  # the walk reached the connectors' classes
    overrides = [found for cls in classes for found in private_cdk_overrides(cls)]
    assert overrides == []


# --- nothing replaces the CDK's output ---------------------------------------------------------
def output_swaps(source: str) -> list[str]:
    """Lines of ``source`` that replace stdout/stderr or touch the CDK's print buffer."""
    found = []
    for node in ast.walk(ast.parse(source)):
        targets: list[ast.expr] = []
        if isinstance(node, ast.Assign):
            targets = node.targets
        elif isinstance(node, ast.AugAssign | ast.AnnAssign):
            targets = [node.target]
        for target in targets:
            for part in ast.walk(target):
                if (
                    isinstance(part, ast.Attribute)
                    and part.attr in ("stdout", "stderr")
                    and isinstance(part.value, ast.Name)
                    and part.value.id == "sys"
                ):
                    found.append(f"line {node.lineno}: assigns sys.{part.attr}")
        if isinstance(node, ast.Name | ast.alias | ast.Attribute):
            name = {ast.Name: "id", ast.alias: "name", ast.Attribute: "attr"}[type(node)]
            if getattr(node, name) == "PRINT_BUFFER":
                found.append(f"line {node.lineno}: uses PRINT_BUFFER")
        if isinstance(node, ast.Call):
            func = node.func
            if isinstance(func, ast.Name) and func.id == "setattr" and node.args:
                first = node.args[0]
                if isinstance(first, ast.Name) and first.id == "sys":
                    found.append(f"line {node.lineno}: setattr on sys")
            if isinstance(func, ast.Attribute) and func.attr == "setStream":
                found.append(f"line {node.lineno}: swaps a log handler's stream")
    return found


def test_the_output_checker_finds_each_kind_of_swap():
    source = (
        "import sys\nfrom airbyte_cdk.logger import PRINT_BUFFER\n"
        "sys.stdout = sys.stderr = object()\n"
        "sys.stdout, sys.stderr = saved\n"
        "setattr(sys, 'stdout', None)\n"
        "handler.setStream(x)\n"
        "print('fine', file=sys.stdout)\n"
    )
    assert output_swaps(source) == [
        "line 3: assigns sys.stdout",
        "line 3: assigns sys.stderr",
        "line 4: assigns sys.stdout",
        "line 4: assigns sys.stderr",
        "line 2: uses PRINT_BUFFER",
        "line 5: setattr on sys",
        "line 6: swaps a log handler's stream",
    ]


def test_nothing_under_connectors_replaces_stdout_or_the_print_buffer():
    files = sorted(CONNECTORS.rglob("*.py"))
    assert len(files) > 10
    swaps = {
        str(path.relative_to(ROOT)): found
        for path in files
        if (found := output_swaps(path.read_text()))
    }
    assert swaps == {}


# --- the one module beyond the public API: its assumption, on the pinned CDK ------------------
def test_the_cdk_is_pinned_to_the_version_the_assumption_was_checked_against():
    dependencies = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    (pin,) = [d for d in dependencies if re.match(r"airbyte-cdk\b", d)]
    assert re.fullmatch(r"airbyte-cdk==[\d.]+", pin), f"not an exact pin: {pin}"
    assert pin.split("==")[1] == importlib.metadata.version("airbyte-cdk")


SECRET = "s3cr3t-t0ken-value"
SPEC = ConnectorSpecification(
    connectionSpecification={
        "type": "object",
        "required": ["destination_path", "token"],
        "properties": {
            "destination_path": {"type": "string"},
            "token": {"type": "string", "airbyte_secret": True},
        },
    }
)


class _Probe(Destination):
    """Notes what ``write`` receives and logs the token (which must come out masked)."""

    def __init__(self) -> None:
        self.received: dict[str, Any] = {}

    def spec(self, logger: logging.Logger) -> ConnectorSpecification:
        return SPEC

    def check(self, logger, config):  # not exercised
        raise NotImplementedError

    def write(
        self,
        config: Mapping[str, Any],
        configured_catalog: ConfiguredAirbyteCatalog,
        input_messages: Iterable[Any],
    ) -> Iterable[AirbyteMessage]:
        logging.getLogger("airbyte").info(f"writing with {config['token']}")
        self.received["config"] = dict(config)
        self.received["catalog"] = ConfiguredAirbyteCatalogSerializer.dump(configured_catalog)
        messages = self.received["messages"] = []
        for message in input_messages:
            if message.type == Type.RECORD and hasattr(message.record, "lines"):
                # read_messages hands on a run of record lines as their text
                for line in message.record.lines.splitlines():
                    record = orjson.loads(line)["record"]
                    messages.append(
                        ("RECORD", record["stream"], record["data"], record["emitted_at"])
                    )
            elif message.type == Type.RECORD:
                record = message.record
                messages.append(("RECORD", record.stream, dict(record.data), record.emitted_at))
            else:
                messages.append(AirbyteMessageSerializer.dump(message))
                if message.type == Type.STATE:
                    yield message


INPUT = b"\n".join(
    [
        b'{"type":"RECORD","record":{"stream":"s","data":{"id":"a","n":1},"emitted_at":5}}',
        b"not a message",
        b'{"type": "RECORD", "record": {"stream": "s", "data": {"id": "b"}, "emitted_at": 6}}',
        b'{"type":"STATE","state":{"type":"STREAM","stream":{"stream_descriptor":{"name":"s"},'
        b'"stream_state":{"n":1}}}}',
        b'{"type":"TRACE","trace":{"type":"STREAM_STATUS","emitted_at":7,"stream_status":'
        b'{"stream_descriptor":{"name":"s"},"status":"COMPLETE"}}}',
    ]
)


class _Stdin:
    buffer: io.BytesIO


def _write_both_ways(
    tmp_path: Path, config: dict[str, Any], capfd, monkeypatch
) -> list[tuple[dict[str, Any], list[bytes]]]:
    """(what write received, the non-log lines out) for Destination.run and launch_destination."""
    (tmp_path / "config.json").write_bytes(orjson.dumps(config))
    catalog = {
        "streams": [
            {
                "stream": {
                    "name": "s",
                    "json_schema": {},
                    "supported_sync_modes": ["full_refresh"],
                },
                "sync_mode": "full_refresh",
                "destination_sync_mode": "append",
            }
        ]
    }
    (tmp_path / "catalog.json").write_bytes(orjson.dumps(catalog))
    args = ["write", "--config", str(tmp_path / "config.json")]
    args += ["--catalog", str(tmp_path / "catalog.json")]
    results = []
    for launch in (
        lambda probe: probe.run(args),
        lambda probe: launch_destination(probe, args, read_messages),
    ):
        stdin = _Stdin()
        stdin.buffer = io.BytesIO(INPUT + b"\n")
        monkeypatch.setattr(sys, "stdin", stdin)
        # The CDK's log handler writes to the sys.stdout of when logging was configured: set it
        # up again inside this test's capture, whatever earlier tests in the process did to it.
        init_logger("airbyte")
        probe = _Probe()
        launch(probe)
        out = capfd.readouterr().out.encode()
        results.append((probe.received, out.splitlines()))
    return results


def test_launch_destination_hands_write_what_destination_run_does(tmp_path, capfd, monkeypatch):
    config = {"destination_path": "x.duckdb", "token": SECRET}
    (cdk, cdk_out), (ours, our_out) = _write_both_ways(tmp_path, config, capfd, monkeypatch)
    assert ours == cdk
    assert ours["config"] == config
    assert ours["messages"][:2] == [
        ("RECORD", "s", {"id": "a", "n": 1}, 5),
        ("RECORD", "s", {"id": "b"}, 6),
    ]
    assert [m["type"] for m in ours["messages"][2:]] == ["STATE", "TRACE"]

    def kinds(lines: list[bytes]) -> list[tuple[str, Any]]:
        messages = [orjson.loads(line) for line in lines if line.startswith(b"{")]
        return [
            (m["type"], m["log"]["message"] if m["type"] == "LOG" else m.get("state"))
            for m in messages
            # The line that is not a message is skipped both ways, logged in other words.
            if not (m["type"] == "LOG" and m["log"]["message"].startswith("ignoring input"))
        ]

    # The committed state comes out, and the secret the probe logs is masked, both ways.
    assert kinds(our_out) == kinds(cdk_out)
    assert ("STATE", orjson.loads(INPUT.splitlines()[3])["state"]) in kinds(our_out)
    assert any(kind == "LOG" and "writing with ****" in text for kind, text in kinds(our_out))
    assert SECRET.encode() not in b"".join(our_out + cdk_out)


def test_launch_destination_checks_the_config_against_the_spec_as_destination_run_does(
    tmp_path, capfd, monkeypatch
):
    with pytest.raises(AirbyteTracedException) as cdk:
        _write_both_ways(tmp_path, {"destination_path": "x.duckdb"}, capfd, monkeypatch)
    # The CDK failed first; ours alone, on the same config:
    (tmp_path / "config.json").write_bytes(orjson.dumps({"destination_path": "x.duckdb"}))
    args = ["write", "--config", str(tmp_path / "config.json")]
    args += ["--catalog", str(tmp_path / "catalog.json")]
    with pytest.raises(AirbyteTracedException) as ours:
        launch_destination(_Probe(), args, read_messages, stdin=io.BytesIO(INPUT))
    assert ours.value.message == cdk.value.message
    assert "token" in str(ours.value.message)
    assert ours.value.failure_type == cdk.value.failure_type
