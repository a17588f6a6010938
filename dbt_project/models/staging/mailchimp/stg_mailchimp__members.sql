-- The clean rows of base_mailchimp__members (the others are in quarantine_rows),
-- without the columns kept for the quarantine.

with

members as (

    select * from {{ ref('base_mailchimp__members') }}

),

final as (

    select * exclude (_airbyte_raw_id, raw_record, quarantine_reason)
    from members
    where quarantine_reason is null

)

select * from final
