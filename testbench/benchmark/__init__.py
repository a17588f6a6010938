"""``make bench``: the pipeline measured against the physical limit and its peers.

One module per comparator, each runnable as ``python -m bench.<module>`` and printing one JSON
line with the records it handled; :mod:`bench.measure` runs each in its own process and samples
the wall time, the peak memory of the process tree and its CPU time. :mod:`bench.run` is the
entry point (``python -m bench``); docs/benchmarks.md explains the method and shows the figures.
"""
