"""A run's child processes: none outlives the run, and who holds the warehouse when it is locked.

* ``dies_with_parent``: dbt and Spark run as children of the step that starts them. Killed with
  SIGKILL (or SIGTERM, which Python does not forward), a parent cannot stop its children; left
  running, a ``dbt build`` keeps the warehouse's write lock until it finishes, and the user's next
  run meets it. On Linux the kernel sends them SIGKILL when the parent dies, however it dies.
* ``lock_conflict``: DuckDB allows one writing process per file and never waits for the lock: a
  second process fails at once with ``IO Error: Could not set lock on file "<path>": Conflicting
  lock is held in <program> (PID <n>) by user <u>. ...``. Through dbt or a step that message
  arrives buried in other output; this finds it and says in one line which process holds which
  file and what to do.
"""

from __future__ import annotations

import ctypes
import os
import re
import signal
import sys
from collections.abc import Callable
from pathlib import Path

_PR_SET_PDEATHSIG = 1  # <linux/prctl.h>


def dies_with_parent(signal_number: int = signal.SIGKILL) -> Callable[[], None] | None:
    """A ``preexec_fn`` for ``subprocess``: the child gets ``signal_number`` (SIGKILL; SIGTERM
    for a server that should stop its own children) when this process dies.

    None where Linux's ``prctl`` is missing. (The signal follows the thread that started the
    child: start it from a thread that waits for it, as ``subprocess.run`` does.)
    """
    if not sys.platform.startswith("linux"):
        return None
    prctl = ctypes.CDLL(None, use_errno=True).prctl  # looked up before the fork, not in the child
    parent, number = os.getpid(), int(signal_number)

    def set_death_signal() -> None:
        prctl(_PR_SET_PDEATHSIG, number)
        if os.getppid() != parent:  # the parent died before the line above: it will not fire
            os.kill(os.getpid(), number)

    return set_death_signal


_CONFLICT = re.compile(
    r'Could not set lock on file "(?P<path>[^"]+)": Conflicting lock is held in '
    r"(?P<program>.+?) \(PID (?P<pid>\d+)\)"
)


def lock_conflict(text: str) -> str | None:
    """One line naming the process that holds the file, if ``text`` holds DuckDB's lock error."""
    found = _CONFLICT.search(text)
    if found is None:
        return None
    path, pid = _shown(Path(found["path"])), int(found["pid"])
    command = command_line(pid)
    if command is None:
        return (
            f"the warehouse {path} was held by PID {pid} ({found['program']}), which has exited "
            "since: run again"
        )
    return (
        f"the warehouse {path} is held by PID {pid} ({command}): stop it (kill {pid}) or wait "
        "for it to finish, then run again"
    )


def command_line(pid: int, limit: int = 120) -> str | None:
    """The process's command line, cut to ``limit`` characters; None if it is gone (or a zombie,
    which holds no lock any more)."""
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        try:
            os.kill(pid, 0)  # no /proc (not Linux): is it alive at all?
        except PermissionError:
            return "another user's process"
        except OSError:
            return None
        return "?"
    words = [
        Path(word).name if i == 0 else word
        for i, word in enumerate(raw.decode(errors="replace").split("\0"))
        if word
    ]
    if not words:
        return None
    command = " ".join(" ".join(words).split())  # one line, whatever the arguments hold
    return command if len(command) <= limit else command[: limit - 1] + "…"


def _shown(path: Path) -> str:
    """The path as the user gave it when it is under the working directory."""
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)
