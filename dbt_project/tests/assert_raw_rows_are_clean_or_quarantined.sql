-- Nothing loaded is lost: for every raw stream, the records it holds (one per key after
-- deduplication, each keyless row on its own) are either clean in staging or in quarantine_rows.
-- Counted from the raw table itself, not from the base model, so a bug in the base model's
-- deduplication or filtering shows up here. Returns the streams that do not add up.

{%- set streams = [
    ('mailchimp.lists', source('mailchimp', 'lists'), ['id'], 'stg_mailchimp__audiences'),
    ('mailchimp.list_members', source('mailchimp', 'list_members'), ['list_id', 'id'],
        'stg_mailchimp__members'),
    ('mailchimp.campaigns', source('mailchimp', 'campaigns'), ['id'], 'stg_mailchimp__campaigns'),
    ('hubspot.contacts', source('hubspot', 'contacts'), ['id'], 'stg_hubspot__contacts'),
    ('hubspot.companies', source('hubspot', 'companies'), ['id'], 'stg_hubspot__companies'),
    ('hubspot.deals', source('hubspot', 'deals'), ['id'], 'stg_hubspot__deals'),
] %}

with

quarantined as (

    select * from {{ ref('quarantine_rows') }}

),

counts as (

    {% for stream, raw, key, staging in streams %}
    select
        '{{ stream }}' as stream,
        (
            select
                count(distinct
                    {%- for column in key %}
                    coalesce(cast({{ column }} as varchar), _airbyte_raw_id)
                    {{- " || '/' || " if not loop.last }}
                    {%- endfor %}
                )
            from {{ raw }}
        ) as raw_records,
        (select count(*) from {{ ref(staging) }}) as clean_rows,
        (select count(*) from quarantined where source_stream = '{{ stream }}') as quarantined_rows
    {% if not loop.last %}union all{% endif %}
    {% endfor %}

),

final as (

    select * from counts
    where raw_records != clean_rows + quarantined_rows

)

select * from final
