{#
    The ISO code of the currency of a hand-typed amount: the currency column when filled in, else
    the sign or the code typed with the amount ('$', '€', '£', '1200 USD'); null when neither says.
#}
{% macro typed_currency(amount_column, currency_column) -%}
    coalesce(
        nullif(upper(trim({{ currency_column }})), ''),
        case
            when contains({{ amount_column }}, '$') then 'USD'
            when contains({{ amount_column }}, '€') then 'EUR'
            when contains({{ amount_column }}, '£') then 'GBP'
        end,
        nullif(regexp_extract(upper({{ amount_column }}), '([A-Z]{3})', 1), '')
    )
{%- endmacro %}
