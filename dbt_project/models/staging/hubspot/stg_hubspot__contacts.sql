-- The clean rows of base_hubspot__contacts (the others are in quarantine_rows),
-- without the columns kept for the quarantine.

with

contacts as (

    select * from {{ ref('base_hubspot__contacts') }}

),

final as (

    select * exclude (_airbyte_raw_id, raw_record, quarantine_reason)
    from contacts
    where quarantine_reason is null

)

select * from final
