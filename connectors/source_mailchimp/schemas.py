"""Inline JSON schemas: the top-level fields of each stream, as listed in docs/contracts.md.

Types drive the DuckDB column types downstream, so they are exact: MailChimp sends "" for an empty
timestamp, which the destination loads as NULL. Nested objects stay objects (JSON columns).
"""

from typing import Any

Schema = dict[str, Any]

STRING: Schema = {"type": ["null", "string"]}
INTEGER: Schema = {"type": ["null", "integer"]}
BOOLEAN: Schema = {"type": ["null", "boolean"]}
DATE_TIME: Schema = {
    "type": ["null", "string"],
    "format": "date-time",
    "airbyte_type": "timestamp_with_timezone",
}
OBJECT: Schema = {"type": ["null", "object"]}
ARRAY: Schema = {"type": ["null", "array"]}


def _schema(properties: dict[str, Schema]) -> Schema:
    return {
        "$schema": "http://json-schema.org/draft-07/schema#",
        "type": "object",
        "additionalProperties": True,
        "properties": properties,
    }


LISTS = _schema(
    {
        "id": STRING,
        "web_id": INTEGER,
        "name": STRING,
        "date_created": DATE_TIME,
        "list_rating": INTEGER,
        "visibility": STRING,
        "double_optin": BOOLEAN,
        "contact": OBJECT,
        "campaign_defaults": OBJECT,
        "stats": OBJECT,
    }
)

LIST_MEMBERS = _schema(
    {
        "id": STRING,
        "email_address": STRING,
        "unique_email_id": STRING,
        "contact_id": STRING,
        "full_name": STRING,
        "web_id": INTEGER,
        "email_type": STRING,
        "status": STRING,
        "merge_fields": OBJECT,
        "stats": OBJECT,
        "ip_signup": STRING,
        "timestamp_signup": DATE_TIME,
        "timestamp_opt": DATE_TIME,
        "member_rating": INTEGER,
        "last_changed": DATE_TIME,
        "language": STRING,
        "vip": BOOLEAN,
        "location": OBJECT,
        "source": STRING,
        "tags_count": INTEGER,
        "tags": ARRAY,
        "list_id": STRING,
    }
)

CAMPAIGNS = _schema(
    {
        "id": STRING,
        "web_id": INTEGER,
        "type": STRING,
        "create_time": DATE_TIME,
        "archive_url": STRING,
        "status": STRING,
        "emails_sent": INTEGER,
        "send_time": DATE_TIME,
        "content_type": STRING,
        "recipients": OBJECT,
        "settings": OBJECT,
        "tracking": OBJECT,
        "report_summary": OBJECT,
    }
)

EMAIL_ACTIVITY = _schema(
    {
        "campaign_id": STRING,
        "list_id": STRING,
        "list_is_active": BOOLEAN,
        "email_id": STRING,
        "email_address": STRING,
        "action": STRING,
        "type": STRING,
        "timestamp": DATE_TIME,
        "url": STRING,
        "ip": STRING,
    }
)
