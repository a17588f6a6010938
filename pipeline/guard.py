"""A guard that stops whole process groups when the process that started them dies.

``dies_with_parent`` reaches a server's own process, not the processes it forks: Airflow's
scheduler forks its LocalExecutor workers, and a scheduler stopped before it has set up its
signal handlers leaves them running. So ``pipeline up`` starts each Airflow component in a
process group of its own and tells this guard the group's id on a pipe. When the pipe closes,
because ``pipeline up`` finished or was killed (``kill -9`` included: the kernel closes the
pipe of a dead process), the guard sends SIGTERM to every group it was told of, waits for them
to go, and sends SIGKILL to what is left. No polling and nothing Linux-only: an EOF on a pipe
is how every Unix says "your parent is gone".

Run as ``python -m pipeline.guard``; ``group_guard()`` starts it and hands back ``watch(pid)``.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress

GRACE_SECONDS = 30.0


@contextmanager
def group_guard(grace: float = GRACE_SECONDS) -> Iterator[Callable[[int], None]]:
    """Start the guard; the block gets ``watch(pgid)``. Leaving the block (or dying) fires it."""
    guard = subprocess.Popen(
        [sys.executable, "-m", "pipeline.guard", str(grace)],
        stdin=subprocess.PIPE,
        start_new_session=True,  # a Ctrl-C in the terminal is for `pipeline up`, not for it
    )
    assert guard.stdin is not None

    def watch(pgid: int) -> None:
        guard.stdin.write(f"{pgid}\n".encode())
        guard.stdin.flush()

    try:
        yield watch
    finally:
        guard.stdin.close()
        guard.wait()


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # a pgid reused by another user's processes: not ours
        return False
    return True


def _signal_groups(groups: list[int], signal_number: int) -> None:
    for pgid in groups:
        with suppress(ProcessLookupError, PermissionError):
            os.killpg(pgid, signal_number)


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    grace = float(args[0]) if args else GRACE_SECONDS
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    groups = [int(line) for line in sys.stdin.buffer if line.strip()]  # until EOF
    _signal_groups(groups, signal.SIGTERM)
    deadline = time.monotonic() + grace
    while any(_group_alive(pgid) for pgid in groups) and time.monotonic() < deadline:
        time.sleep(0.2)
    _signal_groups([pgid for pgid in groups if _group_alive(pgid)], signal.SIGKILL)
    return 0


if __name__ == "__main__":
    sys.exit(main())
