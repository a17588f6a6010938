"""Inline JSON schemas of the HubSpot streams whose fields are fixed (CRM objects build theirs
from the property catalog, see ``streams.CrmObjects``)."""

from connector_kit.schemas import ARRAY, BOOLEAN, DATE_TIME, INTEGER, OBJECT, STRING, object_schema

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
