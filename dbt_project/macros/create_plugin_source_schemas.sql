{#- dbt-duckdb copies a plugin source (the lake's Delta tables) into the warehouse when the first model
    that selects it is built, and runs CREATE SCHEMA IF NOT EXISTS for it on that model's thread. Two threads
    doing so at once on a new warehouse conflict ("Catalog write-write conflict on create"), so the
    schemas are created here, once, before any model runs (on-run-start in dbt_project.yml). -#}
{% macro create_plugin_source_schemas() %}
  {%- if execute -%}
    {%- set schemas = [] -%}
    {%- for source in graph.sources.values() -%}
      {%- if source.meta.get('plugin') and source.schema not in schemas -%}
        {%- do schemas.append(source.schema) -%}
      {%- endif -%}
    {%- endfor -%}
    {%- for schema in schemas %}
      create schema if not exists {{ adapter.quote(schema) }};
    {%- endfor %}
  {%- endif -%}
{% endmacro %}
