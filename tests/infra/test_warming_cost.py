"""infra/cost.py's warming figures: bounded by the warm-up interval, against min_instances."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from types import ModuleType

import pytest

from shared.config import Settings
from tests.infra.terraform import REPO, variable_default


@pytest.fixture(scope="module")
def cost() -> ModuleType:
    spec = importlib.util.spec_from_file_location("infra_cost_warming", REPO / "infra" / "cost.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while being defined
    spec.loader.exec_module(module)
    return module


def test_the_interval_is_the_deployed_one(cost: ModuleType) -> None:
    assert cost.warm_up_interval_s() == variable_default("warm_up_interval_s") == Settings.WARM_UP_INTERVAL_S


def test_quiet_sites_warm_every_view_and_pay_far_less_than_min_instances(cost: ModuleType) -> None:
    quiet = cost.warming_month(10)
    assert quiet.warm_ups_per_function == pytest.approx(10 * cost.MONTH_DAYS)
    assert quiet.cost < quiet.min_instances_cost / 100
    sizing = cost.function_sizing()
    expected = cost.idle_month_cost(sizing["preprocess"]) + cost.idle_month_cost(sizing["predict"])
    assert quiet.min_instances_cost == pytest.approx(expected)


def test_busy_sites_are_bounded_by_the_interval_not_the_page_views(cost: ModuleType) -> None:
    busy = cost.warming_month(100_000, interval_s=60)
    per_instance_bound = cost.DAY_S / 60 * cost.MONTH_DAYS
    assert busy.warm_ups_per_function == pytest.approx(busy.results_api_instances * per_instance_bound)
    assert busy.warm_ups_per_function < 100_000 * cost.MONTH_DAYS / 10
    # a longer interval sends fewer; the POST /warm calls themselves stay one per page view
    longer = cost.warming_month(100_000, interval_s=600)
    assert longer.warm_ups_per_function == pytest.approx(busy.warm_ups_per_function / 10)
    assert longer.warm_calls == busy.warm_calls == pytest.approx(100_000 * cost.MONTH_DAYS)
    assert longer.cost < busy.cost


def test_cost_grows_with_page_views(cost: ModuleType) -> None:
    months = [cost.warming_month(views) for views in (10, 1_000, 100_000)]
    assert [m.cost for m in months] == sorted(m.cost for m in months)
    assert len({m.min_instances_cost for m in months}) == 1  # min_instances costs the same at any traffic


def test_the_cost_script_prints_the_three_traffic_levels(cost: ModuleType) -> None:
    output = subprocess.run(
        [sys.executable, str(REPO / "infra" / "cost.py")], check=True, capture_output=True, text=True
    ).stdout
    warming = output.split("warming on page view")[1]
    for views in ("10", "1,000", "100,000"):
        assert f"{views:>7} page views a day: ≤ " in warming
    assert warming.count("min_instances: $") == 3


def test_the_warm_up_page_quotes_what_the_script_computes(cost: ModuleType) -> None:
    page = (REPO / "docs/concepts/warm-up.md").read_text()
    for views in (10, 1_000, 100_000):
        month = cost.warming_month(views)
        [row] = [line for line in page.splitlines() if line.startswith(f"| {views:,} | ")]
        cells = [cell.strip() for cell in row.strip("|").split("|")]
        assert cells[1].startswith(f"{month.warm_ups_per_function:,.0f}")
        assert cells[2:] == [f"${month.cost:.2f}", f"${month.min_instances_cost:.2f}"]
