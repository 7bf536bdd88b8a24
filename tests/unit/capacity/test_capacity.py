"""The capacity plan reads the Terraform it plans for, and its answer moves with it."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest

from coughcloud.cli import main
from shared.capacity import simulation
from shared.capacity.deployment import TF_DIR, Deployment, locals_
from shared.capacity.limits import ASSUMPTIONS, LIMITS
from shared.capacity.plan import plan
from shared.config import REPO_ROOT

POLL_JS = REPO_ROOT / "frontend_stub" / "src" / "lib" / "poll.js"


def tfvars(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "plan.tfvars"
    path.write_text(text)
    return path


def test_every_documented_limit_names_its_page_and_every_assumption_says_why():
    for name, entry in LIMITS.items():
        assert re.fullmatch(r"https://(cloud\.google\.com|firebase\.google\.com)/\S+", entry.source), name
        assert entry.value > 0, name
    for name, entry in ASSUMPTIONS.items():
        assert len(entry.why) > 20, name


def test_the_sizing_is_the_terraform_defaults_with_the_tfvars_on_top(tmp_path):
    defaults = Deployment.read()
    table = locals_()["sizing_defaults"]
    assert {name: s.max_instances for name, s in defaults.sizing.items()} == {
        name: row["max_instances"] for name, row in table.items()
    }
    changed = Deployment.read(
        tfvars(
            tmp_path,
            'function_sizing = { predict = { cpu = "1", max_instances = 7 } }\n'
            "min_instances = { preprocess = 2 }\n",
        )
    )
    assert (changed.sizing["predict"].cpu, changed.sizing["predict"].max_instances) == ("1", 7)
    assert changed.sizing["predict"].memory == defaults.sizing["predict"].memory  # not overridden: kept
    assert changed.sizing["preprocess"].min_instances == 2


def test_a_tfvars_that_is_not_hcl_or_sizes_an_unknown_function_is_refused(tmp_path):
    with pytest.raises(ValueError, match="not a tfvars file"):
        Deployment.read(tfvars(tmp_path, "function_sizing = {{{\n"))
    with pytest.raises(ValueError, match="transcode"):
        Deployment.read(tfvars(tmp_path, 'function_sizing = { transcode = { cpu = "1" } }\n'))


def test_the_pages_polling_is_the_one_the_plan_simulates():
    text = POLL_JS.read_text()
    defaults = re.search(r"first = (\d+), factor = ([\d.]+), max = (\d+)", text).groups()
    assert (float(defaults[0]) / 1000, float(defaults[1]), float(defaults[2]) / 1000) == (
        simulation.POLL_FIRST_S,
        simulation.POLL_FACTOR,
        simulation.POLL_MAX_S,
    )
    assert re.search(r"deadlineMs = 180_000", text) and simulation.POLL_DEADLINE_S == 180
    assert simulation.polls_until(0.0) == 1 and simulation.polls_until(0.3) == 3


def test_the_defaults_hold_a_1000_per_second_burst_from_idle_and_name_the_next_limit():
    result = plan(1000, 60)
    assert result["uploads"] > 55_000
    assert result["failed_uploads"] == 0, result["failed_by"]
    assert all(stage["rejected_429"] == 0 for stage in result["stages"].values())
    assert result["bottleneck"]["ratio"] < 1.0001 and result["bottleneck"]["source"].startswith("https://")
    assert result["cost_per_million_usd"] > 0 and result["p99_s"] > result["p50_s"] > 0


def test_a_tfvars_that_starves_a_function_reports_failures_and_names_it(tmp_path):
    starved = tfvars(
        tmp_path, "function_sizing = { predict = { max_instances = 2 } }\npush_max_delivery_attempts = 5\n"
    )
    result = plan(200, 30, starved)
    assert result["failed_uploads"] > 1000
    assert any("dead-lettered" in reason for reason in result["failed_by"])
    assert result["bottleneck"]["limit"].startswith("predict max instances")
    assert result["bottleneck"]["bites"]


def test_more_push_attempts_turn_the_same_overload_into_delay(tmp_path):
    few = plan(
        200,
        30,
        tfvars(
            tmp_path,
            "function_sizing = { predict = { max_instances = 2 } }\npush_max_delivery_attempts = 5\n",
        ),
    )
    many = plan(
        200,
        30,
        tfvars(
            tmp_path,
            "function_sizing = { predict = { max_instances = 2 } }\npush_max_delivery_attempts = 100\n",
        ),
    )
    assert few["failed_by"].get("dead-lettered after max_delivery_attempts (predict full)", 0) > 0
    assert "dead-lettered after max_delivery_attempts (predict full)" not in many["failed_by"]


def test_changing_the_terraform_itself_changes_the_answer(tmp_path):
    copy = tmp_path / "terraform"
    shutil.copytree(TF_DIR, copy)
    firestore_tf = copy / "firestore.tf"
    text = firestore_tf.read_text()
    # Index the rising fields again: the collection is back to 500 writes a second.
    firestore_tf.write_text(text.replace('"created_at", "updated_at", "generation", ', ""))
    before = Deployment.read()
    after = Deployment.read(tf_dir=copy)
    assert before.sequential_fields_indexed == ()
    assert after.sequential_fields_indexed == ("created_at", "updated_at", "generation")
    result = plan(300, 20, tf_dir=copy)
    limits = [p["limit"] for p in result["pressures"] if p["ratio"] >= 1]
    assert any("monotonically rising indexed field" in limit for limit in limits)
    assert result["p99_s"] > plan(300, 20)["p99_s"] + 10  # the writes queue behind the index


def test_cli_json_gives_the_figures_a_script_needs(capsys):
    assert main(["capacity", "--rate", "20", "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert {"failed_uploads", "p99_s", "bottleneck", "cost_per_million_usd", "stages"} <= set(result)
    assert result["mode"] == "steady" and result["failed_uploads"] == 0
    assert set(result["stages"]) == {"results_api", "preprocess", "predict"}


def test_cli_refuses_a_missing_tfvars_and_a_rate_that_is_not_positive(capsys, tmp_path):
    with pytest.raises(SystemExit, match="no tfvars file"):
        main(["capacity", "--rate", "5", "--tfvars", str(tmp_path / "missing.tfvars")])
    with pytest.raises(SystemExit):
        main(["capacity", "--rate", "0"])
    assert "must be positive" in capsys.readouterr().err
