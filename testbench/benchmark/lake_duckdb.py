"""The lake's transformations in DuckDB: the same silver and gold tables as the Spark jobs.

Silver email activity (spark_jobs/email_activity.py: reject, type, deduplicate on the event key
keeping the copy extracted last, flag late events) written as Parquet partitioned by event date,
then read back for the gold tables (spark_jobs/<table>.py): email_events (every event with its
session, partitioned by event date), campaign_engagement, campaign_daily_engagement and
person_engagement from silver, and person_sessions from email_events, each written as Parquet.
The SQL follows each job's ``transform`` step for step, so the comparison is of engines, not of
algorithms.

    python -m testbench.benchmark.lake_duckdb --bronze data/lake/bronze/email_activity \\
        --output out/ --run-date 2026-06-01
"""

from __future__ import annotations

import argparse
import datetime as dt
import shutil
import sys
from pathlib import Path

import duckdb

from spark_jobs.schemas import SILVER_EMAIL_ACTIVITY, column_names
from testbench.benchmark.measure import emit

LATE_AFTER_DAYS = 3
SESSION_GAP_SECONDS = 30 * 60

SILVER = """
WITH parsed AS (
    SELECT *, coalesce(
        try_strptime("timestamp", '%Y-%m-%dT%H:%M:%S%z'),
        try_strptime("timestamp", '%Y-%m-%dT%H:%M:%SZ')::TIMESTAMPTZ
    ) AS event_at
    FROM bronze
), reasoned AS (
    SELECT *, CASE
        WHEN campaign_id IS NULL THEN 'null campaign_id'
        WHEN email_id IS NULL THEN 'null email_id'
        WHEN action IS NULL THEN 'null action'
        WHEN coalesce("timestamp", '') = '' THEN 'missing timestamp'
        WHEN event_at IS NULL THEN 'unparseable timestamp'
        WHEN action NOT IN ('open', 'click', 'bounce') THEN 'unknown action'
    END AS reason
    FROM parsed
), events AS (
    SELECT campaign_id, list_id, email_id, email_address, action, "type" AS bounce_type, url, ip,
        event_at, ingest_date, _airbyte_extracted_at, _airbyte_raw_id,
        (event_at AT TIME ZONE 'UTC')::DATE AS event_date
    FROM reasoned WHERE reason IS NULL
), ranked AS (
    SELECT *,
        row_number() OVER (
            PARTITION BY campaign_id, email_id, action, event_at
            ORDER BY _airbyte_extracted_at DESC NULLS LAST, _airbyte_raw_id DESC NULLS LAST
        ) AS copy_rank,
        min(ingest_date) OVER (PARTITION BY campaign_id, email_id, action, event_at)
            AS first_ingest_date
    FROM events
)
SELECT {columns} FROM (
    SELECT *, date_diff('day', event_date, first_ingest_date) > {late} AS is_late
    FROM ranked WHERE copy_rank = 1
)
"""

EMAIL_EVENTS = """
WITH activity AS (
    SELECT *, epoch(event_at) - epoch(lag(event_at) OVER in_time) AS gap
    FROM silver WHERE action IN ('open', 'click')
    WINDOW in_time AS (PARTITION BY email_id ORDER BY event_at, action, campaign_id)
), numbered AS (
    SELECT *, sum(CASE WHEN gap <= {gap} THEN 0 ELSE 1 END) OVER (
        PARTITION BY email_id ORDER BY event_at, action, campaign_id
        ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS session_number
    FROM activity
), sessioned AS (
    SELECT * EXCLUDE (gap, session_number), sha256(email_id || '|' || strftime(
        min(event_at) OVER (PARTITION BY email_id, session_number) AT TIME ZONE 'UTC',
        '%Y-%m-%dT%H:%M:%S')) AS session_id
    FROM numbered
)
SELECT * FROM sessioned
UNION ALL BY NAME
SELECT *, NULL::VARCHAR AS session_id FROM silver WHERE action NOT IN ('open', 'click')
"""

ENGAGEMENT = """
    count_if(action = 'open') AS opens,
    count(DISTINCT CASE WHEN action = 'open' THEN email_id END) AS unique_openers,
    count_if(action = 'click') AS clicks,
    count(DISTINCT CASE WHEN action = 'click' THEN email_id END) AS unique_clickers,
    count_if(action = 'bounce') AS bounces"""

CAMPAIGN_ENGAGEMENT = f"""
SELECT campaign_id, {ENGAGEMENT},
    min(event_at) AS first_event_at, max(event_at) AS last_event_at
FROM silver GROUP BY campaign_id
"""

CAMPAIGN_DAILY_ENGAGEMENT = f"""
SELECT campaign_id, event_date, {ENGAGEMENT}
FROM silver GROUP BY campaign_id, event_date
"""

PERSON_ENGAGEMENT = """
WITH people AS (
    SELECT email_id,
        arg_max(email_address, event_at) AS email_address,
        min(event_at) AS first_event_at,
        max(CASE WHEN action IN ('open', 'click') THEN event_at END) AS last_engaged_at,
        count_if(action IN ('open', 'click') AND event_date > DATE '{as_of}' - 30) AS frequency_30d,
        count_if(action IN ('open', 'click') AND event_date > DATE '{as_of}' - 90) AS frequency_90d,
        count_if(action = 'open' AND event_date > DATE '{as_of}' - 90) AS opens_90d,
        count_if(action = 'click' AND event_date > DATE '{as_of}' - 90) AS clicks_90d,
        count_if(action = 'bounce' AND event_date > DATE '{as_of}' - 90) AS bounces_90d
    FROM silver WHERE event_date <= DATE '{as_of}' GROUP BY email_id
), scored AS (
    SELECT *, date_diff('day', (last_engaged_at AT TIME ZONE 'UTC')::DATE, DATE '{as_of}')
        AS recency_days
    FROM people
)
SELECT email_id, email_address, first_event_at, last_engaged_at, recency_days, frequency_30d,
    frequency_90d, opens_90d, clicks_90d, bounces_90d,
    round(50 * coalesce(exp(-recency_days / 30), 0.0)
        + 50 * least(1.0, (opens_90d + 3 * clicks_90d) / 20), 1) AS engagement_score,
    DATE '{as_of}' AS as_of_date
FROM scored
"""

PERSON_SESSIONS = """
WITH sessions AS (
    SELECT session_id, email_id, min(event_at) AS session_start_at, max(event_at) AS session_end_at,
        count(*) AS events, count_if(action = 'open') AS opens,
        count_if(action = 'click') AS clicks, count(DISTINCT campaign_id) AS campaigns
    FROM email_events WHERE session_id IS NOT NULL GROUP BY session_id, email_id
)
SELECT *, epoch(session_end_at)::BIGINT - epoch(session_start_at)::BIGINT AS duration_seconds,
    (session_start_at AT TIME ZONE 'UTC')::DATE AS session_date
FROM sessions
"""

# In the Spark jobs' order: person_sessions reads email_events.
GOLD = {
    "campaign_engagement": CAMPAIGN_ENGAGEMENT,
    "campaign_daily_engagement": CAMPAIGN_DAILY_ENGAGEMENT,
    "person_engagement": PERSON_ENGAGEMENT,
    "person_sessions": PERSON_SESSIONS,
}


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def build(bronze: Path, output: Path, run_date: dt.date) -> dict[str, int]:
    shutil.rmtree(output, ignore_errors=True)
    (output / "gold").mkdir(parents=True)
    (output / "silver").mkdir()
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    con.execute(
        "CREATE VIEW bronze AS SELECT * FROM read_parquet("
        f"{_literal(f'{bronze}/*/*.parquet')}, hive_partitioning = true) "
        f"WHERE ingest_date <= DATE '{run_date.isoformat()}'"
    )
    silver_path = output / "silver" / "email_activity"
    # Silver's columns, in order, from their owner: the same table as the Spark job writes.
    columns = ", ".join(column_names(SILVER_EMAIL_ACTIVITY))
    silver = SILVER.format(late=LATE_AFTER_DAYS, columns=columns)
    partitioned = "(FORMAT parquet, PARTITION_BY (event_date))"
    con.execute(f"COPY ({silver}) TO {_literal(str(silver_path))} {partitioned}")
    con.execute(
        "CREATE VIEW silver AS SELECT * FROM read_parquet("
        f"{_literal(f'{silver_path}/*/*.parquet')}, hive_partitioning = true)"
    )
    rows = {"bronze": con.execute("SELECT count(*) FROM bronze").fetchone()[0]}
    rows["silver"] = con.execute("SELECT count(*) FROM silver").fetchone()[0]
    events_path = output / "gold" / "email_events"
    events = EMAIL_EVENTS.format(gap=SESSION_GAP_SECONDS)
    con.execute(f"COPY ({events}) TO {_literal(str(events_path))} {partitioned}")
    con.execute(
        "CREATE VIEW email_events AS SELECT * FROM read_parquet("
        f"{_literal(f'{events_path}/*/*.parquet')}, hive_partitioning = true)"
    )
    rows["email_events"] = con.execute("SELECT count(*) FROM email_events").fetchone()[0]
    # person_engagement is as of the latest event date up to the run date, as in Spark
    as_of = con.execute("SELECT max(event_date) FROM silver").fetchone()[0]
    for table, sql in GOLD.items():
        query = sql.format(as_of=as_of.isoformat())
        target = output / "gold" / f"{table}.parquet"
        con.execute(f"COPY ({query}) TO {_literal(str(target))} (FORMAT parquet)")
        rows[table] = con.execute("SELECT count(*) FROM read_parquet(?)", [str(target)]).fetchone()[
            0
        ]
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--bronze", required=True, type=Path)
    parser.add_argument("--output", required=True, type=Path)
    parser.add_argument("--run-date", required=True, type=dt.date.fromisoformat)
    args = parser.parse_args(argv)
    rows = build(args.bronze, args.output, args.run_date)
    emit({"records": rows["bronze"], "rows": rows})
    return 0


if __name__ == "__main__":
    sys.exit(main())
