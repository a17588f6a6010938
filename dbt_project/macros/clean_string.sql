{# Empty or blank strings become null: HubSpot sends '' for a property that was cleared. #}
{% macro clean_string(column) -%}
    nullif(trim({{ column }}), '')
{%- endmacro %}
