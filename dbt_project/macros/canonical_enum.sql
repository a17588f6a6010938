{#
    One spelling for an enumeration such as a lifecycle stage or a member status: 'Marketing
    Qualified Lead', 'marketing_qualified_lead' and 'marketingqualifiedlead' are the same value, the
    API's own spelling (lower case, no separators).
#}
{% macro canonical_enum(column) -%}
    nullif(lower(regexp_replace(trim({{ column }}), '[^A-Za-z0-9]', '', 'g')), '')
{%- endmacro %}
