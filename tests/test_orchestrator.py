"""The orchestrator between a source and a destination (pipeline/sync.py): what it forwards.

Real protocol lines, through real pipes: a child process plays the destination and echoes what it
receives, so the test sees exactly the bytes a destination would read.
"""

import io
import subprocess
import sys

import orjson
import pytest

from pipeline.sync import SyncResult, _pump


def record(stream: str, i: int) -> bytes:
    message = {"type": "RECORD", "record": {"stream": stream, "data": {"id": i, "s": "x\ny"}}}
    message["record"]["emitted_at"] = 1
    return orjson.dumps(message)


def state(stream: str) -> bytes:
    descriptor = {"stream_descriptor": {"name": stream}, "stream_state": {"n": 1}}
    return orjson.dumps({"type": "STATE", "state": {"type": "STREAM", "stream": descriptor}})


LOG = b'{"type":"LOG","log":{"level":"INFO","message":"hello"}}'
ERROR = b'{"type":"TRACE","trace":{"type":"ERROR","emitted_at":1,"error":{"message":"boom"}}}'
STATUS = (
    b'{"type":"TRACE","trace":{"type":"STREAM_STATUS","emitted_at":1,"stream_status":'
    b'{"stream_descriptor":{"name":"a"},"status":"COMPLETE"}}}'
)
SPACED_RECORD = b'{"type": "RECORD", "record": {"stream": "b", "data": {"id": 9}, "emitted_at": 1}}'


class Trickle(io.RawIOBase):
    """A source's stdout that hands out its bytes a few at a time, cutting lines anywhere."""

    def __init__(self, data: bytes, step: int) -> None:
        self.data, self.step, self.pos = data, step, 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        chunk = self.data[self.pos : self.pos + min(self.step, len(buffer))]
        buffer[: len(chunk)] = chunk
        self.pos += len(chunk)
        return len(chunk)


def pump_through_echo(lines: list[bytes], step: int) -> tuple[bytes, SyncResult, list[str]]:
    echo = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import shutil,sys; shutil.copyfileobj(sys.stdin.buffer, sys.stdout.buffer)",
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
    )
    result = SyncResult(source="test")
    source_out = io.BufferedReader(Trickle(b"\n".join(lines), step))  # no newline at the end
    errors = _pump(source_out, echo.stdin, result)
    echo.stdin.close()
    received = echo.stdout.read()
    assert echo.wait() == 0
    return received, result, errors


@pytest.mark.parametrize("step", [7, 100, 1 << 20])
def test_records_state_and_statuses_pass_in_order_and_logs_and_errors_do_not(step):
    lines = [LOG, *(record("a", i) for i in range(300)), state("a"), STATUS, ERROR, b"not json"]
    lines += [*(record("b", i) for i in range(5)), SPACED_RECORD, LOG, state("b"), record("a", 300)]
    received, result, errors = pump_through_echo(lines, step)
    forwarded = [line for line in lines if line not in (LOG, ERROR, b"not json")]
    assert received.split(b"\n") == [*forwarded, b""]
    assert result.records_per_stream == {"a": 301, "b": 6}
    assert errors == ["boom"]


def test_a_destination_that_dies_stops_the_pump_with_a_broken_pipe():
    dead = subprocess.Popen([sys.executable, "-c", "pass"], stdin=subprocess.PIPE)
    dead.wait()
    lines = [record("a", i) for i in range(20_000)]  # more than any pipe and buffer can hold
    source_out = io.BufferedReader(Trickle(b"\n".join(lines) + b"\n", 1 << 16))
    with pytest.raises(BrokenPipeError):
        _pump(source_out, dead.stdin, SyncResult(source="test"))
