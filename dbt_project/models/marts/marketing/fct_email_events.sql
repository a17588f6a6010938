-- One row per email event (open, click, bounce) from the lake's gold events, keyed to the
-- person by the keyed hash of their email, with the activity session it belongs to.
-- Incremental: the lake only grows, so each run adds the events from the last day already
-- loaded onwards (that day again, re-merged on the key, to catch its late events) instead of
-- rereading every partition.

{{
    config(
        materialized='incremental',
        unique_key='email_event_id',
        incremental_strategy='delete+insert',
        on_schema_change='fail'
    )
}}

with

email_events as (

    select * from {{ ref('stg_lake__email_events') }}

),

new_events as (

    select * from email_events
    {% if is_incremental() %}
        where event_date >= (
            select max(already_loaded.event_date)
            from {{ this }} as already_loaded
        )
    {% endif %}

),

final as (

    select
        cast(email_event_id as varchar) as email_event_id,
        cast(campaign_id as varchar) as campaign_id,
        cast(audience_id as varchar) as audience_id,
        cast(
            case when email is not null then {{ person_key('email') }} end as varchar
        ) as person_id,
        cast(session_id as varchar) as session_id,
        cast(event_type as varchar) as event_type,
        cast(bounce_type as varchar) as bounce_type,
        cast(clicked_url as varchar) as clicked_url,
        cast(event_at as timestamp) as event_at,
        cast(event_date as date) as event_date
    from new_events

)

select * from final
