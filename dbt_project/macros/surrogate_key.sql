{#
    A hashed key from several columns, built only from dbt Core's cross-database macros (no dbt_utils:
    the package hub is out of reach). Nulls are replaced by a marker and values are joined with a
    separator, so ('a', null) and (null, 'a') or ('ab', 'c') and ('a', 'bc') never hash alike.
#}
{% macro surrogate_key(columns) -%}
    {%- set parts = [] -%}
    {%- for column in columns -%}
        {%- do parts.append("coalesce(cast(" ~ column ~ " as " ~ dbt.type_string() ~ "), '_null_')") -%}
        {%- if not loop.last -%}
            {%- do parts.append("'-'") -%}
        {%- endif -%}
    {%- endfor -%}
    {{ dbt.hash(dbt.concat(parts)) }}
{%- endmacro %}
