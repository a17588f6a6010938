{#
    A country as its ISO 3166 alpha-2 code. Letters only, upper case, are looked up in the
    country_aliases seed ('United Kingdom', 'U.K.' and 'uk' all become GB); a two-letter value that
    is not an alias is taken as a code already; anything else is unknown (null).
#}
{% macro canonical_country(column) -%}
    {%- set letters = "upper(regexp_replace(trim(" ~ column ~ "), '[^A-Za-z]', '', 'g'))" -%}
    coalesce(
        (select country_aliases.country_code from {{ ref('country_aliases') }} as country_aliases
            where country_aliases.alias = {{ letters }}),
        case when length({{ letters }}) = 2 then {{ letters }} end
    )
{%- endmacro %}
