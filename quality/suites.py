"""What each checked table must satisfy, as Great Expectations 1.x expectation objects.

Only rules that are always true belong here: a check that fails on good data teaches people to
ignore failures. (For example, a click normally implies an open, but a reader who blocks images
clicks without a tracked open, so ``unique_clicks <= unique_opens`` is not asserted.)
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import great_expectations.expectations as gxe
from great_expectations.expectations import Expectation

from spark_jobs import schemas as lake_schemas

# The statuses of MailChimp Marketing API v3's campaign object.
CAMPAIGN_STATUSES = [
    "save",
    "paused",
    "schedule",
    "sending",
    "sent",
    "canceled",
    "canceling",
    "archived",
]
EMAIL_ACTIONS = ["open", "click", "bounce"]

# dbt's marts schema is the dbt project's choice; the pipeline passes the real name if it differs.
DEFAULT_CAMPAIGN_PERFORMANCE = "marts.campaign_performance"


@dataclass(frozen=True)
class TableCheck:
    """The expectations for one table (``schema.table``); one GX expectation suite of that name.

    ``derived`` adds computed columns, name -> SQL expression, for rules about a value that the
    table does not hold as such (the age of the newest row).
    """

    table: str
    expectations: list[Expectation]
    derived: dict[str, str] = field(default_factory=dict)

    @property
    def columns(self) -> list[str]:
        """The columns the expectations read: only these are loaded from the warehouse."""
        names: list[str] = []
        for expectation in self.expectations:
            for attribute in ("column", "column_A", "column_B"):
                if name := getattr(expectation, attribute, None):
                    names.append(name)
            names.extend(getattr(expectation, "column_list", None) or [])
            names.extend(getattr(expectation, "column_set", None) or [])
        return [name for name in dict.fromkeys(names) if name not in self.derived]


def _not_null(*columns: str) -> list[Expectation]:
    return [gxe.ExpectColumnValuesToNotBeNull(column=column) for column in columns]


def _primary_key(column: str) -> list[Expectation]:
    return [*_not_null(column), gxe.ExpectColumnValuesToBeUnique(column=column)]


def _not_empty() -> Expectation:
    return gxe.ExpectTableRowCountToBeBetween(min_value=1)


# What every raw table carries from destination-duckdb (docs/contracts.md).
AIRBYTE_COLUMNS = ["_airbyte_raw_id", "_airbyte_extracted_at", "_airbyte_meta"]
# The pipeline syncs daily: a table whose newest row is older than two days has stopped loading
# (the dbt sources' freshness errors after the same two days).
FRESHNESS_HOURS = 48
# A raw table never shrinks to less than half of what it held at the last good check: the
# connectors append (or overwrite with the full set), so a large drop means a broken sync.
VOLUME_FLOOR = 0.5
HOURS_SINCE_EXTRACTED = "hours_since_extracted"

# The columns dbt reads from each raw table (its staging models), beyond the Airbyte ones.
RAW_REQUIRED_COLUMNS = {
    "raw_mailchimp.lists": ["id", "name", "date_created", "campaign_defaults", "stats"],
    "raw_mailchimp.list_members": [
        "id", "list_id", "email_address", "status", "merge_fields", "last_changed",
    ],
    "raw_mailchimp.campaigns": [
        "id", "status", "emails_sent", "send_time", "recipients", "settings", "report_summary",
    ],
    "raw_mailchimp.email_activity": ["campaign_id", "email_id", "action", "timestamp"],
    "raw_hubspot.contacts": [
        "id", "createdAt", "updatedAt", "properties_email", "properties_lifecyclestage",
    ],
    "raw_hubspot.companies": ["id", "createdAt", "updatedAt", "properties_name"],
    "raw_hubspot.deals": [
        "id", "createdAt", "updatedAt", "properties_amount", "properties_hs_is_closed_won",
        "contacts", "companies",
    ],
    # The marketing team's spreadsheet: columns are its header row, in snake_case.
    "raw_google_sheets.campaign_spend": [
        "row_number", "campaign", "channel", "month", "amount", "currency",
    ],
    "raw_google_sheets.pipeline_targets": [
        "row_number", "audience", "quarter", "target_pipeline_usd",
    ],
}  # fmt: skip


def _raw_rules(table: str) -> list[Expectation]:
    """Keys and values that must hold in ``table``, beyond the checks every raw table gets.

    Built on each call: GX binds an expectation object to the one suite it is added to.
    """
    return {
        "raw_mailchimp.list_members": [
            *_not_null("id", "list_id"),
            # A member's id is the hash of their email, so the same person has the same id in every
            # list: the key is (id, list_id), not id. Raw may hold several versions of a key (the
            # connectors append, dbt keeps the latest), so the key is unique per extraction.
            gxe.ExpectCompoundColumnsToBeUnique(
                column_list=["id", "list_id", "_airbyte_extracted_at"]
            ),
        ],
        "raw_mailchimp.campaigns": [
            gxe.ExpectColumnValuesToBeInSet(
                column="status", value_set=CAMPAIGN_STATUSES, mostly=0.95
            ),
        ],
        # A sheet row's number is its key; the tables are replaced whole, so it is unique.
        "raw_google_sheets.campaign_spend": _primary_key("row_number"),
        "raw_google_sheets.pipeline_targets": _primary_key("row_number"),
        "raw_mailchimp.email_activity": [
            *_not_null("campaign_id", "email_id", "action", "timestamp"),
            gxe.ExpectColumnValuesToBeInSet(column="action", value_set=EMAIL_ACTIONS),
        ],
    }.get(table, [])


def raw_checks(previous_counts: dict[str, int] | None = None) -> list[TableCheck]:
    """The raw tables (docs/contracts.md): present with the columns dbt reads, fresh, no smaller
    than half their size at the last good check (``previous_counts``), keys and known values.

    Dirty rows (a missing id, an invalid email) are dbt's to quarantine, not a reason to stop the
    pipeline: rules here are about the load, not about each record.
    """
    previous_counts = previous_counts or {}
    return [
        TableCheck(
            table,
            [
                gxe.ExpectTableRowCountToBeBetween(
                    min_value=max(1, math.ceil(previous_counts.get(table, 0) * VOLUME_FLOOR))
                ),
                gxe.ExpectTableColumnsToMatchSet(
                    column_set=[*columns, *AIRBYTE_COLUMNS], exact_match=False
                ),
                # the newest row is the age of the last load
                gxe.ExpectColumnMinToBeBetween(
                    column=HOURS_SINCE_EXTRACTED, min_value=0, max_value=FRESHNESS_HOURS
                ),
                *_raw_rules(table),
            ],
            derived={
                HOURS_SINCE_EXTRACTED: (
                    "date_diff('second', _airbyte_extracted_at, now()) / 3600.0"
                )
            },
        )
        for table, columns in RAW_REQUIRED_COLUMNS.items()
    ]


# The silver email activity's columns, as its owner spark_jobs/schemas.py says (plain Python: no
# Spark is imported); event_date comes from the partition directories.
SILVER_EMAIL_ACTIVITY = "lake.silver.email_activity"
SILVER_EMAIL_ACTIVITY_PARTITIONS = "lake.silver.email_activity.partitions"
SILVER_COLUMNS = lake_schemas.column_names(lake_schemas.SILVER_EMAIL_ACTIVITY)


def lake_checks() -> list[TableCheck]:
    """The silver email activity: its schema, keys and values, and no missing day.

    The partition table has one row per day between the first and the last event_date, with
    ``is_present``: a day without its partition means a Spark run did not publish it.
    """
    return [
        TableCheck(
            SILVER_EMAIL_ACTIVITY,
            [
                _not_empty(),
                gxe.ExpectTableColumnsToMatchSet(column_set=SILVER_COLUMNS, exact_match=True),
                *_not_null("campaign_id", "email_id", "action", "event_at", "event_date"),
                gxe.ExpectColumnValuesToBeInSet(column="action", value_set=EMAIL_ACTIONS),
                # silver is deduplicated on this key (docs/contracts.md)
                gxe.ExpectCompoundColumnsToBeUnique(
                    column_list=["campaign_id", "email_id", "action", "event_at"]
                ),
            ],
        ),
        TableCheck(
            SILVER_EMAIL_ACTIVITY_PARTITIONS,
            [
                _not_empty(),
                gxe.ExpectColumnValuesToBeInSet(column="is_present", value_set=[True]),
            ],
        ),
    ]


def mart_checks(campaign_performance: str = DEFAULT_CAMPAIGN_PERFORMANCE) -> list[TableCheck]:
    """The marts: one row per key, counts, amounts and rates that can be true.

    The other marts are looked for in the same schema as ``campaign_performance``.
    """
    schema = campaign_performance.rpartition(".")[0] or "marts"
    return [
        TableCheck(
            campaign_performance,
            [
                _not_empty(),
                *_primary_key("campaign_id"),
                gxe.ExpectColumnValuesToBeBetween(
                    column="unique_open_rate", min_value=0, max_value=1
                ),
                gxe.ExpectColumnValuesToBeBetween(
                    column="unique_click_rate", min_value=0, max_value=1
                ),
                gxe.ExpectColumnValuesToBeBetween(column="won_revenue", min_value=0),
                gxe.ExpectColumnValuesToBeBetween(column="unique_opens", min_value=0),
                gxe.ExpectColumnValuesToBeBetween(column="unique_clicks", min_value=0),
                # Nobody opens or clicks an email they were not sent.
                gxe.ExpectColumnPairValuesAToBeGreaterThanB(
                    column_A="recipients", column_B="unique_opens", or_equal=True
                ),
                gxe.ExpectColumnPairValuesAToBeGreaterThanB(
                    column_A="recipients", column_B="unique_clicks", or_equal=True
                ),
                gxe.ExpectColumnValuesToBeBetween(column="pipeline_amount", min_value=0),
                # Revenue is the won part of the pipeline: never more than the attributed deals'
                # amounts.
                gxe.ExpectColumnPairValuesAToBeGreaterThanB(
                    column_A="pipeline_amount", column_B="won_revenue", or_equal=True
                ),
                gxe.ExpectColumnPairValuesAToBeGreaterThanB(
                    column_A="pipeline_deals", column_B="won_deals", or_equal=True
                ),
            ],
        ),
        TableCheck(
            f"{schema}.campaign_return_on_spend",
            [
                _not_empty(),
                *_primary_key("campaign_id"),
                # spend is what the sheet says it cost: never negative; ratios never below 0
                gxe.ExpectColumnValuesToBeBetween(column="spend_usd", min_value=0),
                gxe.ExpectColumnValuesToBeBetween(column="return_on_spend", min_value=0),
                gxe.ExpectColumnValuesToBeBetween(column="cost_per_click", min_value=0),
                # a lead is an attributed deal: never fewer leads than won deals
                gxe.ExpectColumnPairValuesAToBeGreaterThanB(
                    column_A="leads", column_B="won_deals", or_equal=True
                ),
            ],
        ),
        TableCheck(
            f"{schema}.pipeline_vs_target",
            [
                *_primary_key("pipeline_target_id"),
                gxe.ExpectColumnValuesToBeBetween(column="target_pipeline_usd", min_value=0),
            ],
        ),
        TableCheck(
            f"{schema}.fct_deals",
            [
                _not_empty(),
                *_primary_key("deal_id"),
                gxe.ExpectColumnValuesToBeBetween(column="amount", min_value=0),
            ],
        ),
        TableCheck(
            f"{schema}.dim_people",
            [
                _not_empty(),
                *_primary_key("person_id"),
                # the lake's score, documented as 0 to 100 (spark_jobs/person_engagement.py)
                gxe.ExpectColumnValuesToBeBetween(
                    column="engagement_score", min_value=0, max_value=100
                ),
            ],
        ),
        TableCheck(
            f"{schema}.audience_health",
            [
                *_primary_key("audience_month_id"),
                gxe.ExpectColumnValuesToBeBetween(column="churn_rate", min_value=0, max_value=1),
            ],
        ),
        TableCheck(
            f"{schema}.lifecycle_funnel",
            [
                *_primary_key("lifecycle_funnel_id"),
                gxe.ExpectColumnValuesToBeBetween(
                    column="conversion_from_previous_stage", min_value=0, max_value=1
                ),
            ],
        ),
    ]
