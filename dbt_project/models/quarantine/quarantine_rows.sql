-- The raw rows that staging could not clean, one row each, with the reason: nothing loaded is
-- silently dropped. Each stream's base model decides the reasons; this model only gathers them.
-- Per stream, raw rows (latest versions) = clean staging rows + rows here: the singular test
-- assert_raw_rows_are_clean_or_quarantined checks it on every build.

{%- set streams = [
    ('mailchimp.lists', 'base_mailchimp__audiences', 'audience_id'),
    ('mailchimp.list_members', 'base_mailchimp__members', "audience_id || '/' || subscriber_hash"),
    ('mailchimp.campaigns', 'base_mailchimp__campaigns', 'campaign_id'),
    ('hubspot.contacts', 'base_hubspot__contacts', 'contact_id'),
    ('hubspot.companies', 'base_hubspot__companies', 'company_id'),
    ('hubspot.deals', 'base_hubspot__deals', 'deal_id'),
] %}

with

{% for stream, model, key in streams %}
{{ model }} as (

    select
        '{{ stream }}' as stream,
        {{ key }} as record_key,
        quarantine_reason,
        raw_record,
        _airbyte_raw_id as airbyte_raw_id
    from {{ ref(model) }}
    where quarantine_reason is not null

),

{% endfor %}
quarantined as (

    {% for stream, model, key in streams %}
    select * from {{ model }}
    {% if not loop.last %}union all{% endif %}
    {% endfor %}

),

final as (

    select
        {{ surrogate_key(['stream', 'airbyte_raw_id']) }} as quarantine_row_id,
        stream,
        record_key,
        quarantine_reason,
        raw_record,
        airbyte_raw_id
    from quarantined

)

select * from final
