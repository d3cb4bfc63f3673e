import pytest

from tests.monitoring.promql import metric_names

pytestmark = pytest.mark.static


def test_it_finds_series_and_skips_functions_labels_and_keywords():
    expr = (
        'histogram_quantile(0.95, sum by (view, le) (rate(x_bucket{view!="a:b", le=~"1|2"}[5m])))'
        " / on (job) group_left (instance) y:recorded:rate5m"
        ' and sum without (pid) (z_total offset 5m) > bool 3 or vector(1) unless up{job="a{b}"}'
    )
    assert metric_names(expr) == {"x_bucket", "y:recorded:rate5m", "z_total", "up"}


def test_a_bare_number_expression_names_no_metric():
    assert metric_names("vector(1) * 24 * 3600 + 1e3") == set()
    assert metric_names("node_load1 * 2") == {"node_load1"}
