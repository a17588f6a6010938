"""Inline JSON schemas of the HubSpot streams whose fields are fixed (CRM objects build theirs
from the property catalog, see ``streams.CrmObjects``)."""

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
ID_LIST: Schema = {"type": ["null", "array"], "items": {"type": "string"}}


def object_schema(properties: dict[str, Schema]) -> Schema:
    return {
        "$schema": "http://json-schema.org/draft-07/schema#",
        "type": "object",
        "additionalProperties": True,
        "properties": properties,
    }


OWNERS = object_schema(
    {
        "id": STRING,
        "email": STRING,
        "type": STRING,
        "firstName": STRING,
        "lastName": STRING,
        "userId": INTEGER,
        "userIdIncludingInactive": INTEGER,
        "createdAt": DATE_TIME,
        "updatedAt": DATE_TIME,
        "archived": BOOLEAN,
        "teams": ARRAY,
    }
)

DEAL_PIPELINES = object_schema(
    {
        "id": STRING,
        "label": STRING,
        "displayOrder": INTEGER,
        "createdAt": DATE_TIME,
        "updatedAt": DATE_TIME,
        "archived": BOOLEAN,
        "stages": ARRAY,
    }
)

# ``created`` is epoch milliseconds, as the legacy email events API sends it.
EMAIL_EVENTS = object_schema(
    {
        "id": STRING,
        "type": STRING,
        "created": INTEGER,
        "recipient": STRING,
        "portalId": INTEGER,
        "appId": INTEGER,
        "appName": STRING,
        "emailCampaignId": INTEGER,
        "sentBy": OBJECT,
        "url": STRING,
        "category": STRING,
    }
)
