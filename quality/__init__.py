"""Data-quality checks with Great Expectations 1.x, run by the pipeline after loading, after the
lake's Spark job and after dbt.

``suites`` says what is expected of each table; ``runner`` runs it with GX; ``lake`` reads the
lake's Parquet; ``checks`` holds the entry points the pipeline calls, ``check_raw``, ``check_lake``
and ``check_marts``; ``ci.run_all`` runs them all and writes JUnit XML and a summary for CI.
"""
