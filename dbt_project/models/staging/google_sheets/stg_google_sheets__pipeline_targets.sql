-- The pipeline target per audience and quarter: 'Q2 2026' as the quarter's first day, the typed
-- amount as US dollars.

with

source as (

    select * from {{ source('google_sheets', 'pipeline_targets') }}

),

parsed as (

    select
        row_number as target_row_number,
        trim(audience) as audience_name,
        make_date(
            cast(regexp_extract(quarter, '([0-9]{4})', 1) as integer),
            cast(regexp_extract(quarter, 'Q([1-4])', 1) as integer) * 3 - 2,
            1
        ) as quarter_start_date,
        {{ parse_amount('target_pipeline_usd') }} as target_pipeline_usd,
        nullif(trim(owner), '') as target_owner
    from source
    where nullif(trim(audience), '') is not null

),

final as (

    select
        {{ surrogate_key(['audience_name', 'quarter_start_date']) }} as pipeline_target_id,
        *
    from parsed

)

select * from final
