"""Score labeled flows with a detector and its baselines and collect the metrics."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import polars as pl

from botwatch.evaluation.metrics import (
    flow_metrics,
    host_classes,
    host_window_metrics,
    host_window_table,
    hosts_alerted,
    per_label_recall,
)
from botwatch.evaluation.report import ReportData

if TYPE_CHECKING:
    from botwatch.detector import BaseFlowDetector

__all__ = [
    "DetectorEvaluation",
    "build_report_data",
    "evaluate_detector",
    "fit_baselines",
]

logger = logging.getLogger(__name__)

PRIMARY = "RVAE"


@dataclass
class DetectorEvaluation:
    """One detector's scores on the evaluated flows and the metrics from them.

    ``scored`` is ``score_flows`` output, ``host_scores`` one row per host and
    time window (``score_hosts`` output), ``alerts`` the host windows above
    the threshold and ``metrics`` the JSON-ready metric objects.
    """

    scored: pl.DataFrame
    host_scores: pl.DataFrame
    alerts: pl.DataFrame
    threshold: float
    metrics: dict[str, Any]


def evaluate_detector(
    detector: BaseFlowDetector, flows: pl.DataFrame, *, window_seconds: float
) -> DetectorEvaluation:
    """Score ``flows`` with a fitted detector and compute every metric.

    The returned ``metrics`` has ``threshold``, ``flow``, ``host_window``,
    ``per_label`` and ``hosts_alerted``. A flow is predicted positive when the
    detector flags it (``flag_flows``: its host window alerted and its own
    score is above the threshold), so a host is predicted positive in a window
    exactly when the detector alerted on it there.
    """
    threshold = float(detector.threshold_)
    scored = detector.score_flows(flows)
    host_scores = detector.score_hosts(scored, window_seconds=window_seconds)
    alerts = host_scores.filter(pl.col("host_score") > threshold)
    scored = scored.with_columns(
        detector.flag_flows(scored, window_seconds=window_seconds)
    )

    scores = scored.get_column("flow_score").fill_null(np.nan).to_numpy()
    flagged = scored.get_column("flagged").to_numpy()
    label_class = scored.get_column("label_class").to_numpy()
    flow = flow_metrics(label_class, scores, threshold, flagged=flagged)

    host_window: dict[str, Any] = {"window_seconds": window_seconds}
    host_window.update(
        host_window_metrics(
            host_window_table(
                scored, window_seconds=window_seconds, flag_column="flagged"
            )
        )
    )
    metrics = {
        "threshold": threshold,
        "flow": flow,
        "host_window": host_window,
        "per_label": per_label_recall(
            scored.get_column("label").to_numpy(),
            label_class,
            scores,
            threshold,
            flagged=flagged,
        ),
        "hosts_alerted": hosts_alerted(scored, alerts.get_column("host")),
    }
    return DetectorEvaluation(scored, host_scores, alerts, threshold, metrics)


def fit_baselines(
    baselines: dict[str, BaseFlowDetector],
    train_flows: pl.DataFrame,
    *,
    inputs: list[dict[str, Any]] | None = None,
) -> dict[str, BaseFlowDetector]:
    """Fit each baseline on ``train_flows`` in turn and return them."""
    for name, baseline in baselines.items():
        logger.info("training baseline %s on %d flows", name, train_flows.height)
        baseline.fit(train_flows, inputs=inputs or ())
    return baselines


def _curve(evaluation: DetectorEvaluation) -> tuple[np.ndarray, np.ndarray, float]:
    labeled = evaluation.scored.filter(
        pl.col("flow_score").is_not_null()
        & pl.col("label_class").is_in(["botnet", "normal"])
    )
    y_true = (labeled.get_column("label_class") == "botnet").to_numpy().astype(np.int8)
    return y_true, labeled.get_column("flow_score").to_numpy(), evaluation.threshold


def build_report_data(
    primary: DetectorEvaluation,
    baselines: dict[str, DetectorEvaluation],
    *,
    run: dict[str, Any],
    supervised: frozenset[str] = frozenset(),
) -> ReportData:
    """Assemble ``metrics.json`` content and the figure inputs of the report."""
    metrics: dict[str, Any] = dict(primary.metrics)
    metrics["run"] = run
    if baselines:
        metrics["baselines"] = {
            name: {**evaluation.metrics, "supervised": name in supervised}
            for name, evaluation in baselines.items()
        }
    curves = {PRIMARY: _curve(primary)}
    curves.update({name: _curve(evaluation) for name, evaluation in baselines.items()})
    classes = host_classes(primary.scored)
    host_scores = primary.host_scores.join(classes, on="host", how="left").with_columns(
        pl.col("host_class").fill_null("background")
    )
    return ReportData(
        metrics=metrics,
        curves=curves,
        flow_scores=primary.scored.select("label_class", "flow_score"),
        host_scores=host_scores,
        threshold=primary.threshold,
        primary=PRIMARY,
        supervised=set(supervised),
    )


def recorded_training_inputs(model: BaseFlowDetector) -> tuple[list[str], str | None]:
    """Return the training file paths and time slice stored in the model's summary.

    Paths come from ``training_summary_["inputs"][i]["path"]`` and the slice
    from the first input's ``"slice"`` (every input of one training run has
    the same slice). Either is empty when not recorded.
    """
    summary = getattr(model, "training_summary_", None) or {}
    inputs = [item for item in summary.get("inputs", []) if "path" in item]
    paths = [str(item["path"]) for item in inputs]
    slice_text = inputs[0].get("slice") if inputs else None
    return paths, slice_text


def evaluate_model(
    model: BaseFlowDetector,
    flows: pl.DataFrame,
    *,
    window_seconds: float,
    run: dict[str, Any],
    train_flows: pl.DataFrame | None = None,
    train_inputs: list[dict[str, Any]] | None = None,
) -> ReportData:
    """Evaluate ``model`` on ``flows``, and the baselines when ``train_flows`` is given.

    Each baseline is built from the model's configuration (see
    ``build_baselines``), fitted on ``train_flows`` and scored on the same
    ``flows``. Returns the report inputs, ``metrics.json`` content included.
    """
    from botwatch.evaluation.baselines import SUPERVISED, build_baselines

    logger.info("scoring %d flows with the model", flows.height)
    primary = evaluate_detector(model, flows, window_seconds=window_seconds)
    evaluations: dict[str, DetectorEvaluation] = {}
    if train_flows is not None:
        fitted = fit_baselines(build_baselines(model), train_flows, inputs=train_inputs)
        for name, baseline in fitted.items():
            logger.info("scoring %d flows with baseline %s", flows.height, name)
            evaluations[name] = evaluate_detector(
                baseline, flows, window_seconds=window_seconds
            )
    return build_report_data(primary, evaluations, run=run, supervised=SUPERVISED)
