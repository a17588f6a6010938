{#
    Whether a normalized email looks like an address: something, one @, a domain with a suffix of
    two letters or more, and no two dots in a row (which no mail server accepts).
#}
{% macro is_valid_email(column) -%}
    coalesce(
        regexp_full_match({{ column }}, '[^@\s]+@[^@\s]+\.[^@\s.]{2,}')
        and not contains({{ column }}, '..'),
        false
    )
{%- endmacro %}
