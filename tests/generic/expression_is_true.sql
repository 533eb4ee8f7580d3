{#- Fails for every row where `expression` is not true (an accounting identity, a range). -#}
{% test expression_is_true(model, expression, column_name=none) %}

select *
from {{ model }}
where not coalesce({{ expression }}, false)

{% endtest %}
