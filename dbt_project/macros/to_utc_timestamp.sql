{#
    A point in time as a plain TIMESTAMP in UTC, the type of every <event>_at column in the warehouse.
    Accepts a TIMESTAMPTZ (the connectors' date-time columns, the lake), or an ISO 8601 string with an
    offset (HubSpot properties such as '2024-03-05T10:00:00.000Z'). Converting explicitly to UTC keeps
    the result independent of the time zone of whichever session reads the view. A plain TIMESTAMP
    (Spark may write the lake's event_at without a zone) is taken as UTC, the session time zone that
    profiles.yml sets for dbt. A string that is not a point in time becomes null rather than failing
    the whole build: the base models quarantine a row whose required timestamp is missing.
#}
{% macro to_utc_timestamp(column) -%}
    timezone('UTC', try_cast({{ column }} as timestamptz))
{%- endmacro %}
