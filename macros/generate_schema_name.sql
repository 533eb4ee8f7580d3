{#- Use a folder's custom schema name as it is (staging, identity, core, marts, features)
    instead of prefixing it with the target schema, so the layers read as schemas. -#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {%- if custom_schema_name is none -%}
        {{ target.schema }}
    {%- else -%}
        {{ custom_schema_name | trim }}
    {%- endif -%}
{%- endmacro %}
