-- The clean rows of base_mailchimp__audiences (the others are in quarantine_rows),
-- without the columns kept for the quarantine.

with

audiences as (

    select * from {{ ref('base_mailchimp__audiences') }}

),

final as (

    select * exclude (_airbyte_raw_id, raw_record, quarantine_reason)
    from audiences
    where quarantine_reason is null

)

select * from final
