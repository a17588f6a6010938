"""Data-quality checks with Great Expectations 1.x, run by the pipeline after loading and after dbt.

``suites`` says what is expected of each table; ``runner`` runs it with GX; ``checks`` holds the two
entry points the pipeline calls, ``check_raw`` and ``check_marts``.
"""
