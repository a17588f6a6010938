"""``make bench``: the pipeline measured against the physical limit and its peers.

One module per comparator, each runnable as ``python -m testbench.benchmark.<module>`` and
printing one JSON line with the records it handled; :mod:`testbench.benchmark.measure` runs each in
its own process and samples the wall time, the peak memory of the process tree and its CPU time.
:mod:`testbench.benchmark.run` is the entry point (``python -m testbench.benchmark``);
docs/benchmarks.md explains the method and shows the figures.
"""
