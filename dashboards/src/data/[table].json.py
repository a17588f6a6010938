"""Data loader: one table of the marts' published snapshot as JSON (``--table=NAME``).

Framework runs it at build time for every ``data/<table>.json`` a page attaches; the work is in
``pipeline.dashboard.table_json``. It reads the snapshot, never the warehouse.
"""

import sys

from pipeline.config import get_settings
from pipeline.dashboard import table_json

table = next(arg.removeprefix("--table=") for arg in sys.argv[1:] if arg.startswith("--table="))
sys.stdout.buffer.write(table_json(get_settings(), table))
