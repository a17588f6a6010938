-- The clean rows of base_hubspot__companies (the others are in quarantine_rows),
-- without the columns kept for the quarantine.

with

companies as (

    select * from {{ ref('base_hubspot__companies') }}

),

final as (

    select * exclude (_airbyte_raw_id, raw_record, quarantine_reason)
    from companies
    where quarantine_reason is null

)

select * from final
