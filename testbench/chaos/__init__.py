"""The reliability suite: faults, bad input and crashes, and what the pipeline must do about them.

Whatever the API or the machine does, the warehouse ends equal to the source's truth, or the run
fails loudly with a typed cause and the next clean run converges. ``python -m testbench.chaos`` (or
``make chaos``) tries every scenario and ends with a table; ``tests/test_chaos.py`` runs the same
code at a small scale.

* ``scenarios.py``: what is tried, one line each (the mock's fault scenarios are in
  ``mock_apis/faults.py``);
* ``mock.py``: a private mock server, its faults switch and its truth;
* ``warehouse.py``: the warehouse against the truth (keys lost, duplicate keys);
* ``secrets.py``: every output searched for every secret; listening sockets on loopback only;
* ``runner.py``: runs the scenarios; ``table.py``: the closing table.
"""
