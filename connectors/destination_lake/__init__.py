"""destination-lake: lands Airbyte streams as Parquet files in the lake's bronze layer."""
