"""Where the tools the pipeline runs are: connectors, dbt, Airflow, spark-submit, mock-apis.

Every one of them is a console script installed into the project's environment, so the one to run
is the one beside the interpreter running this code, not the first of that name on PATH (another
``dbt`` there may be another product, another ``airflow`` another version). PATH is only the
fallback, for an interpreter whose scripts live elsewhere.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path


class NotInstalledError(FileNotFoundError):
    """A console script the pipeline needs is not installed; the message says how to fix it."""


def console_script(name: str) -> str:
    """The path of this environment's console script ``name``."""
    beside_python = Path(sys.executable).with_name(name)
    if beside_python.exists():
        return str(beside_python)
    found = shutil.which(name)
    if found is None:
        raise NotInstalledError(
            f"{name!r} is not installed in this environment (run `make install`)"
        )
    return found
