-- The clean rows of base_mailchimp__campaigns (the others are in quarantine_rows),
-- without the columns kept for the quarantine.

with

campaigns as (

    select * from {{ ref('base_mailchimp__campaigns') }}

),

final as (

    select * exclude (_airbyte_raw_id, raw_record, quarantine_reason)
    from campaigns
    where quarantine_reason is null

)

select * from final
