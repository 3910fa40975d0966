"""``botwatch evaluate`` on a real slice of CTU-13 scenario 6."""

from __future__ import annotations

import gzip
import json
import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from botwatch.cli.app import main
from botwatch.evaluation.report import FIGURES

# The shared data folder sits beside the repository, or inside it on a copy.
SCENARIO_6_CANDIDATES = [
    root / "shared/data/ctu13/scenario06_menti_capture20110816.binetflow.gz"
    for root in Path(__file__).resolve().parents[2:4]
]

# Six minutes with steady bot activity (spam attempts and C&C flows) and the
# verified normal workstations; about 26,000 flows.
SLICE_START = "2011/08/16 10:10:00"
SLICE_END = "2011/08/16 10:16:00"


@pytest.fixture(scope="module")
def capture(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Write the rows of scenario 6 between SLICE_START and SLICE_END to a file."""
    scenario_6 = next((p for p in SCENARIO_6_CANDIDATES if p.is_file()), None)
    if scenario_6 is None:
        pytest.skip(f"scenario 6 capture not found at {SCENARIO_6_CANDIDATES}")
    path = tmp_path_factory.mktemp("capture") / "scenario06_slice.binetflow"
    with (
        gzip.open(scenario_6, "rt", encoding="utf-8") as source,
        open(path, "w", encoding="utf-8") as target,
    ):
        target.write(next(source))
        for line in source:
            # StartTime sorts as text, and the file is sorted by it.
            if line < SLICE_START:
                continue
            if line >= SLICE_END:
                break
            target.write(line)
    return path


@pytest.fixture(scope="module")
def model_dir(capture: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    from botwatch.detector import RVAEDetector
    from botwatch.io import parse_slice, read_flows, time_slice

    flows = read_flows([capture]).flows
    start, end = parse_slice("0:0.5")
    train = time_slice(flows, start, end)
    detector = RVAEDetector(
        epochs=1,
        seq_len=8,
        stride=4,
        hidden_size=16,
        latent_dim=4,
        max_train_sequences=2_000,
        n_latent_samples=1,
        window_seconds=60,
        home_net=("147.32.0.0/16",),
        seed=3,
    ).fit(train, inputs=[{"path": str(capture)}])
    directory = tmp_path_factory.mktemp("model") / "model"
    detector.save(directory)
    return directory


@pytest.fixture(scope="module")
def report_dir(
    capture: Path, model_dir: Path, tmp_path_factory: pytest.TempPathFactory
) -> Path:
    directory = tmp_path_factory.mktemp("report") / "report"
    result = CliRunner().invoke(
        main,
        [
            "evaluate",
            str(capture),
            "-m",
            str(model_dir),
            "-o",
            str(directory),
            "--slice",
            "0.5:1",
            "--baselines",
            "--train",
            str(capture),
            "--train-slice",
            "0:0.5",
        ],
    )
    assert result.exit_code == 0, result.output
    return directory


def test_evaluate_metrics_json_keys(report_dir: Path) -> None:
    metrics = json.loads((report_dir / "metrics.json").read_text(encoding="utf-8"))
    flow_keys = {
        "roc_auc",
        "pr_auc",
        "tpr",
        "fpr",
        "precision",
        "f1",
        "tpr_at_fpr",
        "background_flag_rate",
        "n_botnet",
        "n_normal",
        "n_background",
    }
    assert flow_keys <= set(metrics["flow"])
    assert set(metrics["flow"]["tpr_at_fpr"]) == {"0.001", "0.01"}
    host_window = metrics["host_window"]
    assert {"window_seconds", "tpr", "fpr", "precision", "f1", "corrected"} <= set(
        host_window
    )
    assert set(host_window["corrected"]) == {"tpr", "fpr", "precision", "f1"}
    assert host_window["window_seconds"] == 60
    assert set(metrics["hosts_alerted"]) == {"botnet", "normal", "background"}
    assert {"files", "slice", "model_id", "window_seconds", "date"} <= set(
        metrics["run"]
    )
    for name, baseline in metrics["baselines"].items():
        assert flow_keys <= set(baseline["flow"]), name
        assert "corrected" in baseline["host_window"], name


def test_evaluate_real_slice_counts(report_dir: Path) -> None:
    metrics = json.loads((report_dir / "metrics.json").read_text(encoding="utf-8"))
    # The second half of the slice contains spam and C&C flows of the bot and
    # flows of the verified normal hosts.
    assert metrics["flow"]["n_botnet"] > 50
    assert metrics["flow"]["n_normal"] > 50
    assert metrics["flow"]["roc_auc"] is not None
    assert "flow=From-Botnet-V47-TCP-CC73-Not-Encrypted" in metrics["per_label"]
    assert metrics["per_label"]["flow=From-Botnet-V47-TCP-Attempt-SPAM"]["flows"] > 0


def test_evaluate_baselines_present(report_dir: Path) -> None:
    metrics = json.loads((report_dir / "metrics.json").read_text(encoding="utf-8"))
    assert set(metrics["baselines"]) == {
        "Isolation Forest",
        "VAE (single flows)",
        "GRU autoencoder",
        "Random forest",
    }
    assert metrics["baselines"]["Random forest"]["supervised"] is True
    assert metrics["baselines"]["Isolation Forest"]["supervised"] is False


def test_evaluate_report_figures(report_dir: Path) -> None:
    page = (report_dir / "report.html").read_text(encoding="utf-8")
    for name in FIGURES:
        assert (report_dir / name).stat().st_size > 0, name
        assert re.search(rf'alt="{re.escape(name)}"', page), name
    assert page.count("data:image/png;base64,") == len(FIGURES)


def test_evaluate_train_without_baselines(
    capture: Path, model_dir: Path, tmp_path: Path
) -> None:
    result = CliRunner().invoke(
        main,
        [
            "evaluate",
            str(capture),
            "-m",
            str(model_dir),
            "-o",
            str(tmp_path / "r"),
            "--train",
            str(capture),
        ],
    )
    assert result.exit_code == 2
    assert (
        "--train and --train-slice only apply together with --baselines"
        in result.output
    )
    assert not (tmp_path / "r").exists()


def test_evaluate_baselines_recorded_training(
    capture: Path, model_dir: Path, tmp_path: Path
) -> None:
    # Without --train, the baselines train on the files the model recorded.
    directory = tmp_path / "report"
    result = CliRunner().invoke(
        main,
        [
            "evaluate",
            str(capture),
            "-m",
            str(model_dir),
            "-o",
            str(directory),
            "--slice",
            "0.5:1",
            "--baselines",
            "--train-slice",
            "0:0.5",
        ],
    )
    assert result.exit_code == 0, result.output
    metrics = json.loads((directory / "metrics.json").read_text(encoding="utf-8"))
    assert metrics["run"]["baseline_training"]["files"] == [str(capture)]
    assert metrics["run"]["baseline_training"]["slice"] == "0:0.5"
