"""The Airbyte protocol's RECORD line as the CDK writes it, for code that handles records as bytes.

A source built on the CDK writes each record as one JSON line in a fixed layout (serpyco-rs dumps
the message's fields in their declared order, orjson writes them without spaces)::

    {"type":"RECORD","record":{"stream":"<name>","data":{...},"emitted_at":<ms>}}

The sync orchestrator (``pipeline.sync``) finds and counts such lines in blocks of the source's
output without parsing them; the DuckDB destination cuts the ``data`` object out of each and lets
DuckDB's JSON reader type it. Both read the layout from here. A line in any other layout (spaces,
a ``namespace`` or ``meta`` field, an escaped character in the stream name) is not matched, and
its reader parses it as JSON instead: the layout is a fast path, never a requirement.

No CDK import: the orchestrator uses this module without loading the CDK.
"""

import re

# The head of a record line, up to the opening quote of its stream name.
RECORD_HEAD = b'{"type":"RECORD","record":{"stream":"'

# In a block of whole lines that starts with a newline: the stream name of each record line, and
# each line that is not a record line (group 1, without its newline). Each pattern starts at the
# newline that ends the previous line, so the regex engine scans for one byte, not every position.
RECORD_STREAMS = re.compile(rb"\n" + re.escape(RECORD_HEAD) + rb'([^"\\]*)"')
OTHER_LINE = re.compile(rb"\n(?!" + re.escape(RECORD_HEAD) + rb'[^"\\]*")([^\n]*)')

# One record line, whole. Its data object ends right before the last ',"emitted_at":', as nothing
# but digits and '}}' follow it.
_RECORD_LINE = re.compile(
    re.escape(RECORD_HEAD) + rb'([^"\\]+)","data":(\{.*\}),"emitted_at":(\d+)\}\}\s*\Z',
    re.DOTALL,
)


def cut_record_line(line: bytes) -> tuple[str, bytes, int] | None:
    """``(stream, data, emitted_at)`` of a record line in the CDK's layout, ``data`` as its JSON
    text; None for any other line (which the caller then parses)."""
    if not line.startswith(RECORD_HEAD):
        return None
    cut = _RECORD_LINE.match(line)
    if cut is None:
        return None
    stream, data, emitted_at = cut.groups()
    return stream.decode(), data, int(emitted_at)
