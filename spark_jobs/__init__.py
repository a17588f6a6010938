"""The Parquet lake's Spark jobs: one module per job, each runnable with ``spark-submit``."""
