"""`make cost` end to end, in its own process (moto's state is per process), on the small generated
recording: the last line is JSON with the figures the issue asks for, and they add up."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from tools.cost import prices


@pytest.fixture(scope="module")
def cost(tmp_path_factory) -> tuple[dict, dict, str]:
    path = tmp_path_factory.mktemp("cost") / "cost.json"
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "tools.cost",
            "--source",
            "generated",
            "--small",
            "--quiet",
            "--json",
            str(path),
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    return json.loads(run.stdout.strip().splitlines()[-1]), json.loads(path.read_text()), run.stdout


def test_the_last_line_is_json_with_the_figures_of_the_issue(cost):
    figures, written, output = cost
    for key in ("usd_per_million_posts", "fetched_per_stored", "posts_stored", "posts_fetched", "source"):
        assert key in figures, key
    assert figures["source"] == "generated"
    assert set(figures["usd_per_million_posts_by_service"]) == set(prices.SERVICES)
    assert written == figures
    assert "generated recording" in output.splitlines()[0]  # the table says which source


def test_the_figures_add_up(cost):
    f, _, _ = cost
    stored, fetched = f["posts_stored"], f["posts_fetched"]
    assert stored > 0 and fetched >= stored and f["passed"]
    assert f["fetched_per_stored"] == pytest.approx(fetched / stored, abs=1e-3)
    by_service = f["usd_per_million_posts_by_service"]
    assert sum(by_service.values()) == pytest.approx(f["usd_per_million_posts"], abs=1e-3)
    assert f["usd_per_million_posts"] == pytest.approx(f["usd_total"] / stored * 1e6, rel=1e-3)
    units = f["dynamodb_write_units"] * prices.DYNAMODB_WRITE_REQUEST_UNIT
    units += f["dynamodb_read_units"] * prices.DYNAMODB_READ_REQUEST_UNIT
    assert f["usd"]["dynamodb"] == pytest.approx(units, rel=1e-4)
    # Every stored post was written, and at least one write unit per post fetched.
    assert f["dynamodb"]["Posts"]["write"] >= fetched
    # Each tick fires the schedule once: one scheduler and at least one fetcher invocation.
    assert f["lambda"]["scheduler"]["invocations"] == f["ticks_run"]
    assert f["lambda"]["fetcher"]["invocations"] >= f["ticks_run"]
    assert f["lambda"]["scorer"]["invocations"] > 0 and f["lambda_gb_seconds"] > 0
    # The template's system log level is WARN: Lambda writes no START/END/REPORT lines to price.
    assert f["platform_log_invocations"] == 0 and f["log_bytes"] >= f["handler_log_bytes"]
    # The floor: the run's ticks, batches and posts at the least each costs, plus its alerts; the
    # measured run cannot be under it.
    fl = f["floor"]
    assert (fl["ticks"], fl["batches"], fl["posts"]) == (
        f["ticks_run"],
        f["lambda"]["scorer"]["by_trigger"]["queue"],
        stored,
    )
    least = (
        fl["ticks"] * fl["usd_per_tick"] + fl["batches"] * fl["usd_per_batch"] + stored * fl["usd_per_post"]
    )
    assert fl["usd"] == pytest.approx(least + fl["alerts_usd"], abs=2e-8)
    assert f["usd_per_million_posts_floor"] == pytest.approx(fl["usd"] / stored * 1e6, rel=1e-3)
    assert f["usd_per_million_posts_floor"] < f["usd_per_million_posts"]
    assert f["requests_per_stored_post"] == pytest.approx(sum(f["requests"].values()) / stored, abs=1e-3)
