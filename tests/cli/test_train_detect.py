"""``botwatch train``, ``detect`` and ``demo`` on a real slice of scenario 6."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import polars as pl
import pytest
from click.testing import CliRunner

from botwatch.alerts import ALERT_KEYS
from botwatch.cli.app import main

INFECTED = "147.32.84.165"
# Rows of the time-sorted scenario 6 file to copy: the first 20% of its time
# span, with about 350 botnet flows in the second half.
SLICE_END = "2011/08/16 10:27:40"


@pytest.fixture(scope="module")
def capture(scenario6_path: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Copy the first rows of scenario 6, up to SLICE_END, to a plain file."""
    path = tmp_path_factory.mktemp("capture") / "scenario06_start.binetflow"
    with (
        gzip.open(scenario6_path, "rt", encoding="utf-8") as source,
        open(path, "w", encoding="utf-8") as target,
    ):
        target.write(next(source))
        for line in source:
            # StartTime sorts as text, and the file is sorted by it.
            if line >= SLICE_END:
                break
            target.write(line)
    return path


@pytest.fixture(scope="module")
def model_dir(capture: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("models") / "model"
    result = CliRunner().invoke(
        main,
        [
            "train",
            str(capture),
            "-o",
            str(directory),
            "--slice",
            "0:0.5",
            "--home-net",
            "147.32.0.0/16",
            "--epochs",
            "3",
            "--hidden-size",
            "32",
            "--latent-dim",
            "8",
            "--seed",
            "3",
            "--no-progress",
        ],
    )
    assert result.exit_code == 0, result.output
    return directory


def test_train_writes_model_directory(model_dir: Path):
    config = json.loads((model_dir / "config.json").read_text())
    assert (model_dir / "weights.safetensors").stat().st_size > 0
    assert config["config"]["home_net"] == ["147.32.0.0/16"]
    assert config["config"]["seed"] == 3
    summary = config["training_summary"]
    assert summary["train_on"] == "non-botnet"
    assert summary["inputs"][0]["slice"] == "0:0.5"
    assert len(summary["inputs"][0]["sha256"]) == 64


def test_detect_alerts_on_infected_host(capture: Path, model_dir: Path, tmp_path):
    alerts_path = tmp_path / "alerts.jsonl"
    scores_path = tmp_path / "scores.parquet"
    result = CliRunner().invoke(
        main,
        [
            "detect",
            str(capture),
            "-m",
            str(model_dir),
            "--slice",
            "0.5:1",
            "-o",
            str(alerts_path),
            "--scores",
            str(scores_path),
            "--no-progress",
        ],
    )
    assert result.exit_code == 0, result.output
    alerts = [json.loads(line) for line in alerts_path.read_text().splitlines()]
    assert alerts
    assert all(tuple(alert) == ALERT_KEYS for alert in alerts)
    assert INFECTED in {alert["host"] for alert in alerts}
    first = next(a for a in alerts if a["host"] == INFECTED)
    assert first["score"] > first["threshold"]
    assert first["window_end"] > first["window_start"]
    assert first["top_flows"][0]["file"] == str(capture)
    assert first["top_flows"][0]["score"] >= first["top_flows"][-1]["score"]
    scores = pl.read_parquet(scores_path)
    assert {"file", "line", "host", "flow_score"} <= set(scores.columns)
    assert scores.height > 10_000


def test_detect_writes_alerts_to_stdout(capture: Path, model_dir: Path):
    result = CliRunner().invoke(
        main,
        [
            "detect",
            str(capture),
            "-m",
            str(model_dir),
            "--slice",
            "0.5:1",
            "--no-progress",
            "--threshold",
            "1e9",
        ],
    )
    assert result.exit_code == 0, result.output
    assert result.stdout == ""


def test_detect_missing_model_error(capture: Path, tmp_path):
    result = CliRunner().invoke(
        main, ["detect", str(capture), "-m", str(tmp_path / "none"), "--no-progress"]
    )
    assert result.exit_code == 1
    assert "model directory" in result.stderr
    assert "not found" in result.stderr


def test_detect_scores_bad_extension_error(capture: Path, model_dir: Path, tmp_path):
    result = CliRunner().invoke(
        main,
        [
            "detect",
            str(capture),
            "-m",
            str(model_dir),
            "--scores",
            str(tmp_path / "scores.txt"),
        ],
    )
    assert result.exit_code == 1
    assert ".parquet or .csv" in result.stderr


def test_train_invalid_home_net_error(capture: Path, tmp_path):
    result = CliRunner().invoke(
        main,
        ["train", str(capture), "-o", str(tmp_path / "m"), "--home-net", "147.32/99"],
    )
    assert result.exit_code == 1
    assert "invalid home network '147.32/99'" in result.stderr
    assert not (tmp_path / "m").exists()


def test_demo_flags_infected_host_on_slice(capture: Path, tmp_path):
    result = CliRunner().invoke(
        main,
        [
            "demo",
            "--data",
            str(capture),
            "--workdir",
            str(tmp_path / "demo"),
            "--epochs",
            "3",
            "--no-progress",
        ],
    )
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    infected = [line for line in lines if line.startswith(INFECTED)]
    assert infected
    assert infected[0].split()[1] == "botnet"
    summary = next(line for line in lines if line.strip().startswith("botnet"))
    assert "hosts alerted 1/1" in summary
    normal = next(line for line in lines if line.strip().startswith("normal"))
    alerted, total = normal.split("host windows alerted ")[1].split()[0].split("/")
    assert int(alerted) <= max(1, int(total) // 10)
    assert (tmp_path / "demo" / "model" / "config.json").is_file()
    assert (tmp_path / "demo" / "alerts.jsonl").is_file()
