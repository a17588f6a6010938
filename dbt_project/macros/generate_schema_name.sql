{#
    Use each layer's schema name as it is (staging, intermediate, marts) instead of dbt's default
    <target schema>_<custom schema> (main_staging, ...). The warehouse has a single target, a local
    DuckDB file, so there is no dev/prod pair of schemas to keep apart, and readers of the marts get
    plain names: marts.campaign_performance.
#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {%- if custom_schema_name is none -%}
        {{ target.schema }}
    {%- else -%}
        {{ custom_schema_name | trim }}
    {%- endif -%}
{%- endmacro %}
