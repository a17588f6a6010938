"""What each checked table must satisfy, as Great Expectations 1.x expectation objects.

Only rules that are always true belong here: a check that fails on good data teaches people to
ignore failures. (For example, a click normally implies an open, but a reader who blocks images
clicks without a tracked open, so ``unique_clicks <= unique_opens`` is not asserted.)
"""

from __future__ import annotations

from dataclasses import dataclass

import great_expectations.expectations as gxe
from great_expectations.expectations import Expectation

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
    """The expectations for one table (``schema.table``); one GX expectation suite of that name."""

    table: str
    expectations: list[Expectation]

    @property
    def columns(self) -> list[str]:
        """The columns the expectations read: only these are loaded from the warehouse."""
        names: list[str] = []
        for expectation in self.expectations:
            for attribute in ("column", "column_A", "column_B"):
                if name := getattr(expectation, attribute, None):
                    names.append(name)
            names.extend(getattr(expectation, "column_list", None) or [])
        return list(dict.fromkeys(names))


def _not_null(*columns: str) -> list[Expectation]:
    return [gxe.ExpectColumnValuesToNotBeNull(column=column) for column in columns]


def _primary_key(column: str) -> list[Expectation]:
    return [*_not_null(column), gxe.ExpectColumnValuesToBeUnique(column=column)]


def _not_empty() -> Expectation:
    return gxe.ExpectTableRowCountToBeBetween(min_value=1)


def raw_checks() -> list[TableCheck]:
    """The raw tables (docs/contracts.md): keys present and unique, values from known sets."""
    return [
        TableCheck(
            "raw_mailchimp.list_members",
            [
                _not_empty(),
                *_not_null("id", "list_id", "email_address"),
                # A member's id is the hash of their email, so the same person has the same id in
                # every list: the key is (id, list_id), not id.
                gxe.ExpectCompoundColumnsToBeUnique(column_list=["id", "list_id"]),
            ],
        ),
        TableCheck(
            "raw_mailchimp.campaigns",
            [
                _not_empty(),
                *_primary_key("id"),
                gxe.ExpectColumnValuesToBeInSet(column="status", value_set=CAMPAIGN_STATUSES),
            ],
        ),
        TableCheck(
            "raw_mailchimp.email_activity",
            [
                _not_empty(),
                *_not_null("campaign_id", "email_id", "action", "timestamp"),
                gxe.ExpectColumnValuesToBeInSet(column="action", value_set=EMAIL_ACTIONS),
            ],
        ),
        TableCheck("raw_hubspot.contacts", [_not_empty(), *_primary_key("id")]),
        TableCheck("raw_hubspot.deals", [_not_empty(), *_primary_key("id")]),
    ]


def mart_checks(campaign_performance: str = DEFAULT_CAMPAIGN_PERFORMANCE) -> list[TableCheck]:
    """The campaign-performance mart: one row per campaign, counts and rates that can be true."""
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
            ],
        )
    ]
