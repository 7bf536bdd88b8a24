"""Sizing defaults obey the platform's rules and the code's limits; the cost script runs on them."""

from __future__ import annotations

import subprocess
import sys

from shared.config import Settings
from tests.infra.terraform import (
    REPO,
    _parsed,
    deployed_functions,
    function_sizing,
    locals_,
    resources,
    unwrap,
    variable_default,
)


def test_every_function_is_sized_and_the_cost_script_reads_the_same_table():
    sizing = function_sizing()
    assert set(sizing) == set(deployed_functions())
    table = locals_()["sizing_defaults"]
    for name, s in sizing.items():
        row = table[name]
        assert (s.memory, s.cpu, s.timeout_s, s.concurrency) == (
            row["memory"],
            row["cpu"],
            row["timeout_s"],
            row["concurrency"],
        )
        assert (s.min_instances, s.max_instances) == (row["min_instances"], row["max_instances"])


def test_below_one_vcpu_an_instance_serves_one_request_at_a_time():
    for name, s in function_sizing().items():
        if s.vcpu < 1:
            assert s.concurrency == 1, f"{name}: Cloud Run refuses concurrency > 1 below 1 vCPU"


def test_serving_stays_lean_and_scales_to_zero():
    for name, s in function_sizing().items():
        assert s.memory_gib <= 0.5, f"{name}: serving needs ~65 MB; more than 512 MiB is waste"
        assert s.min_instances == 0, name


def test_warm_instances_are_one_variable_that_defaults_to_none():
    assert variable_default("min_instances") == {}
    merge = locals_()["sizing"]
    assert "lookup(var.min_instances,name,defaults.min_instances)" in merge
    [overrides] = [b["function_sizing"] for b in _parsed()["variable"] if "function_sizing" in b]
    assert "min_instances" not in str(overrides["type"])  # one place to set it, not two


def test_cost_script_prices_a_warm_instance_of_every_function():
    output = subprocess.run(
        [sys.executable, str(REPO / "infra" / "cost.py")], check=True, capture_output=True, text=True
    ).stdout
    warm = output.split("one warm instance (min_instances = 1)")[1]
    for name, s in function_sizing().items():
        assert f"{name:12} {s.memory} / {s.cpu} vCPU: $" in warm
    assert "$6.57 a month" in warm  # 512Mi / 0.5 vCPU at the idle rate, 730 hours


def test_preprocess_outlives_its_decode_budget():
    assert function_sizing()["preprocess"].timeout_s > Settings.DECODE_TIMEOUT_S * 2


def test_function_resource_takes_every_sizing_field():
    function = resources("google_cloudfunctions2_function")["function"]
    values = [unwrap(v) for v in unwrap(function["service_config"]).values()]
    prefix = "${local.sizing[each.key]."
    wired = [v for v in values if isinstance(v, str) and v.startswith(prefix)]
    used = {v.removeprefix(prefix).removesuffix("}") for v in wired}
    assert set(function_sizing()["predict"].__dataclass_fields__) <= used


def test_cost_script_prints_every_function_and_the_comparison():
    output = subprocess.run(
        [sys.executable, str(REPO / "infra" / "cost.py")], check=True, capture_output=True, text=True
    ).stdout
    for name in deployed_functions():
        if name != "dead_letter":
            assert name in output
    assert "functions total: $" in output
    assert "original single function" in output
