"""How a source process starts: the CDK's own ``launch``, with the garbage collector tuned for a
stream of acyclic records.

Importing the CDK leaves some 100,000 long-lived objects (models, schemas, modules) that every full
collection walks again, and a parsed page of records (some 15,000 dicts, lists and strings, none
of them in a reference cycle) triggers collections dozens of times. Freezing what exists before the
read moves those objects out of the collector's sight, and a higher young-generation threshold
makes collections rarer: together they nearly halve the CPU time of parsing a page (measured with
the benchmark; see docs/benchmarks.md). Memory stays bounded: records hold no cycles, so reference
counting frees each page as soon as it has been written. Both are Python's public ``gc`` API; the
CDK's entry point, message path and output buffer are used as they are.
"""

import gc

from airbyte_cdk.entrypoint import launch
from airbyte_cdk.sources import Source

# Collect the young generation after this many net allocations instead of 700.
YOUNG_GENERATION_THRESHOLD = 20_000


def launch_source(source: Source, args: list[str]) -> None:
    """``airbyte_cdk.entrypoint.launch(source, args)`` with the garbage collector out of the way."""
    gc.freeze()
    gc.set_threshold(YOUNG_GENERATION_THRESHOLD, *gc.get_threshold()[1:])
    launch(source, args)
