-- Every row of the spend tab, parsed, with the reason it cannot be used (if any). Matching to
-- campaigns happens in int_campaign_spend_matched (it needs MailChimp's campaigns).

with

source as (

    select * from {{ source('google_sheets', 'campaign_spend') }}

),

exchange_rates as (

    select * from {{ ref('exchange_rates') }}

),

parsed as (

    select
        -- ids
        row_number as spend_row_number,

        -- descriptive
        nullif(trim(campaign), '') as campaign_name_as_typed,
        {{ normalize_campaign_name('campaign') }} as campaign_name_normalized,
        lower(nullif(trim(channel), '')) as channel,
        nullif(trim(month), '') as spend_month_as_typed,
        nullif(trim(owner), '') as spend_owner,
        nullif(trim(notes), '') as notes,

        -- amounts
        nullif(trim(amount), '') as amount_as_typed,
        {{ parse_amount('amount') }} as amount,
        {{ typed_currency('amount', 'currency') }} as currency_code,

        -- the row as loaded, for the quarantine
        _airbyte_raw_id,
        to_json(source) as raw_record

    from source

),

converted as (

    select
        parsed.*,
        cast(parsed.amount * exchange_rates.usd_per_unit as decimal(18, 2)) as amount_usd,
        -- the same campaign, channel, month and typed amount twice: a row pasted twice
        row_number() over (
            partition by
                parsed.campaign_name_normalized,
                parsed.channel,
                parsed.spend_month_as_typed,
                parsed.amount_as_typed,
                parsed.currency_code
            order by parsed.spend_row_number asc
        ) as copy_number
    from parsed
    left join exchange_rates
        on parsed.currency_code = exchange_rates.currency_code

),

final as (

    select
        * exclude (copy_number),
        case
            when lower(campaign_name_as_typed) = 'campaign' then 'repeated header row'
            when campaign_name_normalized = '' or campaign_name_normalized is null
                then 'missing campaign name'
            when amount is null then 'unparseable amount'
            when amount_usd is null then 'unknown currency'
            when copy_number > 1 then 'duplicate row'
        end as quarantine_reason
    from converted

)

select * from final
