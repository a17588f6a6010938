"""Inline JSON schemas: the top-level fields of each stream, as listed in docs/contracts.md.

Types drive the DuckDB column types downstream, so they are exact: MailChimp sends "" for an empty
timestamp, which the streams turn into null (a "" is not a date-time). Nested objects stay
objects (JSON columns).
"""

from connector_kit.schemas import ARRAY, BOOLEAN, DATE_TIME, INTEGER, OBJECT, STRING, object_schema

LISTS = object_schema(
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

LIST_MEMBERS = object_schema(
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

CAMPAIGNS = object_schema(
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

EMAIL_ACTIVITY = object_schema(
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

REPORTS = object_schema(
    {
        "id": STRING,
        "campaign_title": STRING,
        "type": STRING,
        "list_id": STRING,
        "list_is_active": BOOLEAN,
        "list_name": STRING,
        "subject_line": STRING,
        "preview_text": STRING,
        "emails_sent": INTEGER,
        "abuse_reports": INTEGER,
        "unsubscribed": INTEGER,
        "send_time": DATE_TIME,
        "bounces": OBJECT,
        "forwards": OBJECT,
        "opens": OBJECT,
        "clicks": OBJECT,
        "list_stats": OBJECT,
        "ecommerce": OBJECT,
        "delivery_status": OBJECT,
    }
)

UNSUBSCRIBES = object_schema(
    {
        "email_id": STRING,
        "email_address": STRING,
        "merge_fields": OBJECT,
        "vip": BOOLEAN,
        "timestamp": DATE_TIME,
        "reason": STRING,
        "campaign_id": STRING,
        "list_id": STRING,
        "list_is_active": BOOLEAN,
    }
)

SEGMENTS = object_schema(
    {
        "id": INTEGER,
        "name": STRING,
        "member_count": INTEGER,
        "type": STRING,
        "created_at": DATE_TIME,
        "updated_at": DATE_TIME,
        "options": OBJECT,
        "list_id": STRING,
    }
)

TAGS = object_schema({"id": INTEGER, "name": STRING, "list_id": STRING})
