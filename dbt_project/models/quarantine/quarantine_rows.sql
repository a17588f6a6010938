-- The raw rows that staging could not clean, one row each, with the reason: nothing loaded is
-- silently dropped. Each stream's base model decides the reasons; this model only gathers them.
-- Per stream, raw rows (latest versions) = clean staging rows + rows here: the singular test
-- assert_raw_rows_are_clean_or_quarantined checks it on every build.

with

audiences as (

    select * from {{ ref('base_mailchimp__audiences') }}

),

members as (

    select * from {{ ref('base_mailchimp__members') }}

),

campaigns as (

    select * from {{ ref('base_mailchimp__campaigns') }}

),

contacts as (

    select * from {{ ref('base_hubspot__contacts') }}

),

companies as (

    select * from {{ ref('base_hubspot__companies') }}

),

deals as (

    select * from {{ ref('base_hubspot__deals') }}

),

spend as (

    select * from {{ ref('base_google_sheets__campaign_spend') }}

),

matched_spend as (

    select * from {{ ref('int_campaign_spend_matched') }}

),

-- each stream's key, named as the stream's raw table is (<source>.<stream>)
quarantined as (

    select
        'mailchimp.lists' as source_stream,
        audience_id as record_key,
        quarantine_reason,
        raw_record,
        _airbyte_raw_id
    from audiences
    where quarantine_reason is not null
    union all
    select
        'mailchimp.list_members' as source_stream,
        audience_id || '/' || subscriber_hash as record_key,
        quarantine_reason,
        raw_record,
        _airbyte_raw_id
    from members
    where quarantine_reason is not null
    union all
    select
        'mailchimp.campaigns' as source_stream,
        campaign_id as record_key,
        quarantine_reason,
        raw_record,
        _airbyte_raw_id
    from campaigns
    where quarantine_reason is not null
    union all
    select
        'hubspot.contacts' as source_stream,
        contact_id as record_key,
        quarantine_reason,
        raw_record,
        _airbyte_raw_id
    from contacts
    where quarantine_reason is not null
    union all
    select
        'hubspot.companies' as source_stream,
        company_id as record_key,
        quarantine_reason,
        raw_record,
        _airbyte_raw_id
    from companies
    where quarantine_reason is not null
    union all
    select
        'hubspot.deals' as source_stream,
        deal_id as record_key,
        quarantine_reason,
        raw_record,
        _airbyte_raw_id
    from deals
    where quarantine_reason is not null
    union all
    -- a spend row that does not parse, or that parses but names no campaign
    select
        'google_sheets.campaign_spend' as source_stream,
        cast(spend.spend_row_number as varchar) as record_key,
        coalesce(spend.quarantine_reason, 'no matching campaign') as quarantine_reason,
        spend.raw_record,
        spend._airbyte_raw_id
    from spend
    left join matched_spend
        on spend.spend_row_number = matched_spend.spend_row_number
    where spend.quarantine_reason is not null or not matched_spend.is_matched

),

final as (

    select
        {{ surrogate_key(['source_stream', '_airbyte_raw_id']) }} as quarantine_row_id,
        source_stream,
        record_key,
        quarantine_reason,
        raw_record,
        _airbyte_raw_id as airbyte_raw_id
    from quarantined

)

select * from final
