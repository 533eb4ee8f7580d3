{#- The columns of `parsed_lines` (raw_line_parsing_ctes), in order. -#}
{% macro raw_line_parsed_columns() -%}
{%- set columns = [
    'raw_line_key', 'load_id', 'file_path', 'line_number', 'loaded_at', 'log_clock_at',
    'quarantine_reason', 'quarantine_detail', 'content_hash', 'event_id', 'event_type', 'schema_version', 'source_system',
    'event_at', 'received_at', 'anonymous_id', 'user_id', 'email_hash', 'payment_customer_id',
    'order_id', 'page_url', 'page_path', 'referrer', 'host', 'user_agent', 'ip_hash', 'campaign',
] -%}
{%- for name, path in raw_line_fields() if name.startswith('prop_') -%}
{%- do columns.append(name) -%}
{%- endfor -%}
{{ return(columns) }}
{%- endmacro %}
