-- The spend rows that parse (the others are in quarantine_rows), in US dollars, without the
-- columns kept for the quarantine.

with

campaign_spend as (

    select * from {{ ref('base_google_sheets__campaign_spend') }}

),

final as (

    select * exclude (_airbyte_raw_id, raw_record, quarantine_reason)
    from campaign_spend
    where quarantine_reason is null

)

select * from final
