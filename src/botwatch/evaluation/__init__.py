"""Evaluation of detectors on labeled flows: metrics, baselines and the report."""

from __future__ import annotations

from botwatch.evaluation.metrics import (
    flow_metrics,
    host_window_metrics,
    host_window_table,
    hosts_alerted,
    per_label_recall,
)

__all__ = [
    "flow_metrics",
    "host_window_metrics",
    "host_window_table",
    "hosts_alerted",
    "per_label_recall",
]
