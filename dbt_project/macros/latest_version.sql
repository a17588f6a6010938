{#
    Keeps the latest version of each record. The connectors load incrementally (append, then dedup),
    so a raw table can hold several versions of one key: the latest by the source's cursor wins, then
    by when Airbyte extracted it. A row without a key cannot be matched to another version: it is
    kept on its own (keyed by its Airbyte row id), so that the base model can quarantine it.
    Used as the `qualify` clause of a select from the raw table.
#}
{% macro latest_version(key_columns, cursor_column=none) -%}
    row_number() over (
        partition by
        {%- for column in key_columns %}
            coalesce(cast({{ column }} as varchar), _airbyte_raw_id){{ "," if not loop.last }}
        {%- endfor %}
        order by
        {%- if cursor_column is not none %}
            {{ cursor_column }} desc nulls last,
        {%- endif %}
            _airbyte_extracted_at desc, _airbyte_raw_id desc
    ) = 1
{%- endmacro %}
