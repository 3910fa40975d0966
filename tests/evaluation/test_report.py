"""Report figures and page from synthetic scores."""

from __future__ import annotations

import base64
import json
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from botwatch.evaluation.metrics import flow_metrics
from botwatch.evaluation.report import FIGURES, ReportData, render_html, write_report

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def synthetic_metrics(flow: dict) -> dict:
    host_window = {
        "window_seconds": 300,
        "tpr": 1.0,
        "fpr": 0.1,
        "precision": 0.5,
        "f1": 2 / 3,
        "tp": 4,
        "fp": 4,
        "tn": 36,
        "fn": 0,
        "windows": 4,
        "corrected": {"tpr": 1.0, "fpr": 0.1, "precision": 0.9, "f1": 0.95},
    }
    return {
        "flow": flow,
        "host_window": host_window,
        "per_label": {
            "flow=From-Botnet-V47-TCP-Attempt-SPAM": {
                "flows": 90,
                "unscored": 0,
                "recall": 0.9,
            },
            "flow=From-Botnet-V47-TCP-CC73-Not-Encrypted": {
                "flows": 10,
                "unscored": 0,
                "recall": None,
            },
        },
        "hosts_alerted": {"botnet": 1, "normal": 2, "background": 5},
        "run": {
            "files": ["a.binetflow"],
            "slice": "0.5:1",
            "model": "m",
            "window": 300,
        },
        "baselines": {
            "Isolation Forest": {"flow": flow, "host_window": host_window},
            "Random forest": {"flow": flow, "host_window": host_window},
        },
    }


def synthetic_data(rng: np.random.Generator) -> ReportData:
    classes = np.array(
        ["botnet"] * 100 + ["normal"] * 300 + ["background"] * 600, dtype=object
    )
    scores = np.where(
        classes == "botnet", rng.normal(6, 1, 1000), rng.normal(2, 1, 1000)
    )
    flow = flow_metrics(classes, scores, threshold=4.5)
    keep = classes != "background"
    y_true = (classes[keep] == "botnet").astype(np.int8)
    start = datetime(2011, 8, 16, 8, 0, tzinfo=UTC)
    host_rows = [
        (
            f"10.0.0.{h}",
            start + timedelta(seconds=300 * w),
            float(rng.normal(2 + 3 * (h == 1), 1)),
        )
        for h in range(12)
        for w in range(10)
    ]
    host_scores = pl.DataFrame(
        {
            "host": [r[0] for r in host_rows],
            "window_start": [r[1] for r in host_rows],
            "host_score": [r[2] for r in host_rows],
            "host_class": [
                "botnet" if r[0] == "10.0.0.1" else "background" for r in host_rows
            ],
        }
    )
    return ReportData(
        metrics=synthetic_metrics(flow),
        curves={
            "RVAE": (y_true, scores[keep], 4.5),
            "Isolation Forest": (
                y_true,
                scores[keep] + rng.normal(0, 1, keep.sum()),
                4.5,
            ),
            "Random forest": (y_true, scores[keep] * 2, 9.0),
        },
        flow_scores=pl.DataFrame(
            {"label_class": classes.tolist(), "flow_score": scores}
        ),
        host_scores=host_scores,
        threshold=4.5,
        supervised={"Random forest"},
    )


@pytest.fixture(scope="module")
def report_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("report")
    write_report(directory, synthetic_data(np.random.default_rng(0)))
    return directory


def test_write_report_writes_every_png(report_dir: Path) -> None:
    for name in FIGURES:
        content = (report_dir / name).read_bytes()
        assert content.startswith(PNG_MAGIC), name


def test_report_html_embeds_every_figure(report_dir: Path) -> None:
    page = (report_dir / "report.html").read_text(encoding="utf-8")
    for name in FIGURES:
        match = re.search(
            r'<img src="data:image/png;base64,([A-Za-z0-9+/=]+)" '
            rf'alt="{re.escape(name)}"',
            page,
        )
        assert match is not None, name
        assert base64.b64decode(match.group(1)) == (report_dir / name).read_bytes()


def test_report_html_self_contained(report_dir: Path) -> None:
    page = (report_dir / "report.html").read_text(encoding="utf-8")
    assert "http://" not in page
    assert "https://" not in page
    assert "<script" not in page


def test_report_html_marks_supervised_baseline(report_dir: Path) -> None:
    page = (report_dir / "report.html").read_text(encoding="utf-8")
    assert (
        'Random forest <span class="tag">supervised, trained on labels</span>' in page
    )


def test_report_html_shows_missing_value() -> None:
    data = synthetic_data(np.random.default_rng(1))
    page = render_html(data, {name: b"" for name in FIGURES})
    # The C&C recall of None is shown as n/a, not as "None".
    assert "None" not in page
    assert "n/a" in page


def test_metrics_json_round_trip(report_dir: Path) -> None:
    metrics = json.loads((report_dir / "metrics.json").read_text(encoding="utf-8"))
    assert (
        metrics["per_label"]["flow=From-Botnet-V47-TCP-CC73-Not-Encrypted"]["recall"]
        is None
    )
    assert set(metrics["flow"]["tpr_at_fpr"]) == {"0.001", "0.01"}


def test_write_report_empty_scores(tmp_path: Path) -> None:
    data = synthetic_data(np.random.default_rng(2))
    data.curves = {"RVAE": (np.zeros(0, np.int8), np.zeros(0), 1.0)}
    data.flow_scores = data.flow_scores.clear()
    data.host_scores = data.host_scores.clear()
    write_report(tmp_path, data)
    for name in FIGURES:
        assert (tmp_path / name).stat().st_size > 0, name
