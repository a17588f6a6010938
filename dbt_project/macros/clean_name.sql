{#
    A person's name, trimmed; typed all in lower or all in upper case ('ADA', 'ada') it gets a capital
    first letter and lower case after it. A name in mixed case ('McAdam') is kept as typed: the
    person chose that spelling. Runs of spaces inside the name become one.
#}
{% macro clean_name(column) -%}
    {%- set name = "regexp_replace(" ~ clean_string(column) ~ ", '\\s+', ' ', 'g')" -%}
    case
        when {{ name }} in (lower({{ name }}), upper({{ name }}))
            then upper(left({{ name }}, 1)) || lower(substr({{ name }}, 2))
        else {{ name }}
    end
{%- endmacro %}
