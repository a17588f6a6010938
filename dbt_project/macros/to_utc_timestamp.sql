{#
    A point in time as a plain TIMESTAMP in UTC, the type of every <event>_at column in the warehouse.
    Accepts a TIMESTAMPTZ (the connectors' date-time columns, the lake), or an ISO 8601 string with an
    offset (HubSpot properties such as '2024-03-05T10:00:00.000Z'). Converting explicitly to UTC keeps
    the result independent of the time zone of whichever session reads the view. A plain TIMESTAMP
    (Spark may write the lake's event_at without a zone) is taken as UTC, the session time zone that
    profiles.yml sets for dbt.
#}
{% macro to_utc_timestamp(column) -%}
    timezone('UTC', cast({{ column }} as timestamptz))
{%- endmacro %}
