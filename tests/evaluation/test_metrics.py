"""Metric functions against hand-computed cases."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

import numpy as np
import polars as pl
import pytest

from botwatch.evaluation.metrics import (
    confusion_rates,
    correction_factor,
    flow_metrics,
    host_window_metrics,
    host_window_table,
    hosts_alerted,
    per_label_recall,
    pr_auc,
    roc_auc,
    tpr_at_fpr,
)

ORIGIN = datetime(2011, 8, 16, 10, 0, 0, tzinfo=UTC)


def make_flows(
    rows: list[tuple[float, str | None, str | None, float | None]],
) -> pl.DataFrame:
    """Build scored flows from ``(seconds after ORIGIN, host, label_class, score)``."""
    return pl.DataFrame(
        {
            "start_time": [ORIGIN + timedelta(seconds=s) for s, _, _, _ in rows],
            "host": [h for _, h, _, _ in rows],
            "label_class": [c for _, _, c, _ in rows],
            "flow_score": [x for _, _, _, x in rows],
        },
        schema={
            "start_time": pl.Datetime("us", "UTC"),
            "host": pl.String,
            "label_class": pl.String,
            "flow_score": pl.Float64,
        },
    )


def test_confusion_rates_hand_case() -> None:
    rates = confusion_rates(tp=3, fp=1, tn=6, fn=1)
    assert rates["tpr"] == pytest.approx(0.75)
    assert rates["fpr"] == pytest.approx(1 / 7)
    assert rates["precision"] == pytest.approx(0.75)
    assert rates["f1"] == pytest.approx(0.75)


def test_confusion_rates_empty_classes() -> None:
    rates = confusion_rates(tp=0, fp=0, tn=0, fn=0)
    assert rates == {"tpr": None, "fpr": None, "precision": None, "f1": None}


def test_confusion_rates_nothing_predicted() -> None:
    rates = confusion_rates(tp=0, fp=0, tn=5, fn=2)
    assert rates["tpr"] == 0.0
    assert rates["fpr"] == 0.0
    assert rates["precision"] is None
    assert rates["f1"] == 0.0


def test_flow_metrics_hand_case() -> None:
    label_class = np.array(
        [
            "botnet",
            "botnet",
            "botnet",
            "normal",
            "normal",
            "normal",
            "normal",
            "background",
            "background",
            "botnet",
            None,
        ],
        dtype=object,
    )
    scores = np.array([9.0, 5.0, 2.0, 1.0, 3.0, 0.5, 5.0, 6.0, 1.0, np.nan, 7.0])
    result = flow_metrics(label_class, scores, threshold=4.0)
    # Above 4.0: botnet 9 and 5 (TP 2, FN 1) and normal 5 (FP 1, TN 3).
    # Background 6 is flagged and 1 is not. The NaN botnet flow is unscored.
    assert result["tpr"] == pytest.approx(2 / 3)
    assert result["fpr"] == pytest.approx(1 / 4)
    assert result["precision"] == pytest.approx(2 / 3)
    assert result["f1"] == pytest.approx(2 / 3)
    assert result["background_flag_rate"] == pytest.approx(0.5)
    assert result["n_botnet"] == 3
    assert result["n_normal"] == 4
    assert result["n_background"] == 2
    assert result["n_unscored"] == 1
    # Pairs (botnet, normal) ranked correctly: 9 beats all 4; 5 beats 3 and
    # ties 1 (counts 0.5); 2 beats 2. (4 + 3.5 + 2) / 12.
    assert result["roc_auc"] == pytest.approx(9.5 / 12)
    assert set(result["tpr_at_fpr"]) == {"0.001", "0.01"}
    # Only the top botnet flow (score 9) sits above every normal flow.
    assert result["tpr_at_fpr"]["0.01"] == pytest.approx(1 / 3)


def test_flow_metrics_score_equal_threshold_negative() -> None:
    result = flow_metrics(
        np.array(["botnet", "normal"], dtype=object), np.array([4.0, 1.0]), 4.0
    )
    assert result["tpr"] == 0.0


def test_flow_metrics_without_botnet_flows() -> None:
    result = flow_metrics(
        np.array(["normal", "normal", "background"], dtype=object),
        np.array([1.0, 5.0, 6.0]),
        threshold=4.0,
    )
    assert result["roc_auc"] is None
    assert result["pr_auc"] is None
    assert result["tpr"] is None
    assert result["fpr"] == pytest.approx(0.5)
    assert result["tpr_at_fpr"] == {"0.001": None, "0.01": None}


def test_flow_metrics_empty_input() -> None:
    result = flow_metrics(np.array([], dtype=object), np.array([]), threshold=0.0)
    assert result["tpr"] is None
    assert result["fpr"] is None
    assert result["background_flag_rate"] is None
    assert result["n_botnet"] == 0


def test_auc_functions_hand_case() -> None:
    y = np.array([1, 1, 0, 0])
    s = np.array([0.9, 0.4, 0.5, 0.1])
    assert roc_auc(y, s) == pytest.approx(0.75)
    # Ranked: 1, 0, 1, 0 -> precision at the hits 1 and 2/3.
    assert pr_auc(y, s) == pytest.approx((1 + 2 / 3) / 2)
    assert tpr_at_fpr(y, s, 0.0) == pytest.approx(0.5)
    assert tpr_at_fpr(y, s, 0.5) == pytest.approx(1.0)


def test_auc_functions_one_class() -> None:
    y = np.array([0, 0])
    s = np.array([0.3, 0.1])
    assert roc_auc(y, s) is None
    assert pr_auc(y, s) is None
    assert tpr_at_fpr(y, s, 0.01) is None


def test_per_label_recall_hand_case() -> None:
    labels = np.array(["spam", "spam", "cc", "cc", "cc", "normal-web"], dtype=object)
    label_class = np.array(["botnet"] * 5 + ["normal"], dtype=object)
    scores = np.array([5.0, 1.0, 5.0, 5.0, np.nan, 9.0])
    result = per_label_recall(labels, label_class, scores, threshold=2.0)
    assert list(result) == ["cc", "spam"]
    assert result["spam"] == {"flows": 2, "unscored": 0, "recall": 0.5}
    assert result["cc"] == {"flows": 3, "unscored": 1, "recall": 1.0}


def test_correction_factor_values() -> None:
    assert correction_factor(1) == pytest.approx(math.exp(-0.01) + 1)
    assert correction_factor(0) == pytest.approx(2.0)
    assert correction_factor(1000) == pytest.approx(1.0, abs=1e-4)


def hand_case_flows() -> pl.DataFrame:
    return make_flows(
        [
            # Window 1: bot A flagged; normal B flagged, normal C not.
            (10, "A", "botnet", 9.0),
            (20, "A", "background", 0.0),
            (30, "B", "normal", 8.0),
            (40, "C", "normal", 1.0),
            (50, "D", "background", 9.0),  # background only: left out
            (60, None, "botnet", None),  # no monitored host: left out
            # Window 2: A has a normal and a botnet flow, none above 5.
            (310, "A", "normal", 1.0),
            (320, "A", "botnet", 5.0),  # equal to the threshold: not flagged
            # Window 3: only C, normal, not flagged.
            (610, "C", "normal", 2.0),
        ]
    )


def test_host_window_table_hand_case() -> None:
    table = host_window_table(hand_case_flows(), window_seconds=300, threshold=5.0)
    assert table.rows() == [
        (1, "A", "botnet", True),
        (1, "B", "normal", True),
        (1, "C", "normal", False),
        (2, "A", "botnet", False),
        (3, "C", "normal", False),
    ]


def test_host_window_metrics_plain() -> None:
    table = host_window_table(hand_case_flows(), window_seconds=300, threshold=5.0)
    result = host_window_metrics(table)
    assert (result["tp"], result["fn"], result["fp"], result["tn"]) == (1, 1, 1, 2)
    assert result["tpr"] == pytest.approx(0.5)
    assert result["fpr"] == pytest.approx(1 / 3)
    assert result["precision"] == pytest.approx(0.5)
    assert result["f1"] == pytest.approx(0.5)
    assert result["windows"] == 3


def test_host_window_metrics_corrected() -> None:
    table = host_window_table(hand_case_flows(), window_seconds=300, threshold=5.0)
    corrected = host_window_metrics(table)["corrected"]
    cf1 = math.exp(-0.01) + 1
    cf2 = math.exp(-0.02) + 1
    ttp, tfn = cf1, cf2  # one bot per window, so N_bot = 1
    tfp, ttn = 1 / 2, 1 / 2 + 1  # window 1 has two normal hosts, window 3 one
    assert corrected["tpr"] == pytest.approx(ttp / (ttp + tfn))
    assert corrected["fpr"] == pytest.approx(tfp / (tfp + ttn))
    assert corrected["precision"] == pytest.approx(ttp / (ttp + tfp))
    precision, recall = ttp / (ttp + tfp), ttp / (ttp + tfn)
    assert corrected["f1"] == pytest.approx(
        2 * precision * recall / (precision + recall)
    )


def test_host_window_metrics_window_index_counts_gaps() -> None:
    # A bot seen only in the tenth window gets cf(10), not cf(1).
    flows = make_flows([(0, "N", "normal", 0.0), (9 * 60 + 5, "A", "botnet", 9.0)])
    table = host_window_table(flows, window_seconds=60, threshold=1.0)
    assert table["window"].to_list() == [1, 10]
    corrected = host_window_metrics(table)["corrected"]
    assert corrected["tpr"] == pytest.approx(1.0)
    assert corrected["fpr"] == pytest.approx(0.0)


def test_host_window_metrics_no_botnet_hosts() -> None:
    flows = make_flows([(0, "N", "normal", 9.0), (1, "M", "normal", 0.0)])
    result = host_window_metrics(
        host_window_table(flows, window_seconds=300, threshold=1.0)
    )
    assert result["tpr"] is None
    assert result["fpr"] == pytest.approx(0.5)
    assert result["precision"] == 0.0
    assert result["corrected"]["tpr"] is None
    assert result["corrected"]["fpr"] == pytest.approx(0.5)


def test_host_window_metrics_no_labeled_hosts() -> None:
    flows = make_flows([(0, "D", "background", 9.0)])
    table = host_window_table(flows, window_seconds=300, threshold=1.0)
    assert table.height == 0
    result = host_window_metrics(table)
    assert result["windows"] == 0
    assert result["tpr"] is None
    assert result["f1"] is None
    assert result["corrected"] == {
        "tpr": None,
        "fpr": None,
        "precision": None,
        "f1": None,
    }


def test_host_window_table_epoch_aligned() -> None:
    # 10:02:30 lies in the window that starts at 10:00:00, so a flow 200 s
    # later (10:05:50) is in window 2 although less than 300 s passed.
    flows = make_flows([(150, "A", "botnet", 9.0), (350, "A", "botnet", 0.0)])
    table = host_window_table(flows, window_seconds=300, threshold=1.0)
    assert table["window"].to_list() == [1, 2]


def test_host_window_table_flag_column() -> None:
    flows = hand_case_flows().with_columns(
        alerted=pl.col("host").is_in(["C"]) & (pl.col("start_time") > ORIGIN)
    )
    table = host_window_table(flows, window_seconds=300, flag_column="alerted")
    assert table.filter(pl.col("predicted"))["host"].to_list() == ["C", "C"]


def test_host_window_table_needs_one_rule() -> None:
    with pytest.raises(ValueError, match="exactly one of threshold and flag_column"):
        host_window_table(hand_case_flows(), window_seconds=300)


def test_host_window_table_rejects_zero_window() -> None:
    with pytest.raises(ValueError, match="window_seconds must be positive, got 0"):
        host_window_table(hand_case_flows(), window_seconds=0, threshold=1.0)


def test_hosts_alerted_by_class() -> None:
    flows = hand_case_flows()
    counts = hosts_alerted(flows, ["A", "A", "B", "D", "E"])
    # A has a botnet flow, B only normal, D only background, E has no flows.
    assert counts == {"botnet": 1, "normal": 1, "background": 2}


def test_hosts_alerted_none() -> None:
    assert hosts_alerted(hand_case_flows(), []) == {
        "botnet": 0,
        "normal": 0,
        "background": 0,
    }
