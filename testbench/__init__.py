"""The test bench: what exists to exercise the product, never part of it.

- ``testbench.mock_apis``: MailChimp and HubSpot served from one synthetic world (``mock-apis``).
- ``testbench.chaos``: the reliability suite (``make chaos``).
- ``testbench.benchmark``: throughput and memory against limits and peers (``make bench``).
- ``testbench.support``: helpers the tests, the suite and the benchmark share.

The product (``pipeline``, ``connectors``, ``dags``, ``quality``, ``spark_jobs``) never imports
this package: it starts the mock as a program and talks to it over HTTP, like any source.
"""
