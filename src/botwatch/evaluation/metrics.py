"""Flow-level and host-window detection metrics.

Label classes follow CTU-13: ``botnet`` flows are the positives and ``normal``
flows the negatives. ``background`` flows are unverified, so they stay out of
every rate. Only the share of them that would raise an alert is reported.

A flow is predicted positive when the caller's ``flagged`` array marks it. The
evaluation passes the detector's ``flag_flows`` (the flow lies in an alerted
host window and its own score is above the threshold). Without ``flagged``, a
flow is predicted positive when its anomaly score is strictly greater than the
threshold. A null or NaN score marks a
flow that belongs to no monitored host: it is left out of the flow-level rates
and counted as ``n_unscored``.

A rate whose denominator is zero (for example the TPR of a slice without
botnet flows) is ``None``, which ``metrics.json`` writes as ``null``.

The host-window metrics and their corrected variants follow the comparison
tool of Garcia, Grill, Stiborek and Zunino, "An empirical comparison of botnet
detection methods", Computers & Security 45 (2014).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import polars as pl
from sklearn.metrics import average_precision_score, roc_auc_score, roc_curve

__all__ = [
    "ALPHA",
    "TARGET_FPRS",
    "confusion_rates",
    "correction_factor",
    "flow_metrics",
    "host_classes",
    "host_window_metrics",
    "host_window_table",
    "hosts_alerted",
    "per_label_recall",
    "pr_auc",
    "roc_auc",
    "tpr_at_fpr",
]

# Decay of the correction function cf(t) = exp(-ALPHA * t) + 1. The value is
# the one in the authors' tool's code, although its help text gives 0.4.
ALPHA = 0.01

# FPR levels at which the flow-level TPR is read off the ROC curve.
TARGET_FPRS: tuple[float, ...] = (0.001, 0.01)

BOTNET = "botnet"
NORMAL = "normal"
BACKGROUND = "background"


def _ratio(numerator: float, denominator: float) -> float | None:
    if denominator == 0:
        return None
    return float(numerator / denominator)


def confusion_rates(tp: float, fp: float, tn: float, fn: float) -> dict[str, Any]:
    """Compute TPR, FPR, precision and F1 from confusion counts.

    The counts may be fractional (the corrected host-window totals are). Each
    rate is ``None`` when its denominator is zero. F1 is ``2TP / (2TP + FP +
    FN)``, which equals the harmonic mean of precision and recall wherever both
    are defined and is 0, not undefined, when nothing was predicted positive
    but positives exist.
    """
    return {
        "tpr": _ratio(tp, tp + fn),
        "fpr": _ratio(fp, fp + tn),
        "precision": _ratio(tp, tp + fp),
        "f1": _ratio(2 * tp, 2 * tp + fp + fn),
    }


def _binary_labels(
    label_class: np.ndarray, scores: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Return ``(y_true, scores)`` for scored botnet and normal flows only."""
    label_class = np.asarray(label_class, dtype=object)
    scores = np.asarray(scores, dtype=np.float64)
    keep = ~np.isnan(scores) & ((label_class == BOTNET) | (label_class == NORMAL))
    return (label_class[keep] == BOTNET).astype(np.int8), scores[keep]


def _both_classes(y_true: np.ndarray) -> bool:
    return bool(y_true.any()) and not bool(y_true.all())


def roc_auc(y_true: np.ndarray, scores: np.ndarray) -> float | None:
    """Return the area under the ROC curve, or ``None`` unless both classes occur."""
    y_true = np.asarray(y_true)
    if not _both_classes(y_true):
        return None
    return float(roc_auc_score(y_true, scores))


def pr_auc(y_true: np.ndarray, scores: np.ndarray) -> float | None:
    """Return the area under the precision-recall curve as average precision.

    Average precision is the step-wise sum of precision over recall increments
    (scikit-learn's ``average_precision_score``), which does not interpolate
    optimistically the way the trapezoidal rule does. ``None`` unless both
    classes occur.
    """
    y_true = np.asarray(y_true)
    if not _both_classes(y_true):
        return None
    return float(average_precision_score(y_true, scores))


def tpr_at_fpr(y_true: np.ndarray, scores: np.ndarray, max_fpr: float) -> float | None:
    """Return the highest TPR on the ROC curve whose FPR is at most ``max_fpr``.

    Every threshold is kept (``drop_intermediate=False``) because dropping
    collinear points can hide the best operating point below ``max_fpr``.
    ``None`` unless both classes occur.
    """
    y_true = np.asarray(y_true)
    if not _both_classes(y_true):
        return None
    fpr, tpr, _ = roc_curve(y_true, scores, drop_intermediate=False)
    return float(tpr[fpr <= max_fpr].max())


def flow_metrics(
    label_class: np.ndarray,
    scores: np.ndarray,
    threshold: float,
    *,
    flagged: np.ndarray | None = None,
) -> dict[str, Any]:
    """Compute the flow-level metrics of one set of scored flows.

    Parameters
    ----------
    label_class
        Label class per flow (``botnet``, ``normal``, ``background``,
        ``unknown`` or ``None``).
    scores
        Anomaly score per flow, higher is more anomalous; NaN for a flow that
        belongs to no monitored host.
    threshold
        A flow whose score is strictly greater is predicted positive, unless
        ``flagged`` is given.
    flagged
        Optional Boolean prediction per flow that replaces the threshold rule.

    Returns
    -------
    dict
        ``roc_auc``, ``pr_auc``, ``tpr``, ``fpr``, ``precision``, ``f1``,
        ``tpr_at_fpr`` (keyed by the FPR as a string, ``"0.001"`` and
        ``"0.01"``), ``background_flag_rate`` (share of scored background
        flows above the threshold), ``n_botnet``, ``n_normal`` and
        ``n_background`` (scored flows of each class) and ``n_unscored``.
    """
    label_class = np.asarray(label_class, dtype=object)
    scores = np.asarray(scores, dtype=np.float64)
    scored = ~np.isnan(scores)
    if flagged is None:
        flagged = np.where(scored, scores, -np.inf) > threshold
    flagged = scored & np.asarray(flagged, dtype=bool)

    is_botnet = scored & (label_class == BOTNET)
    is_normal = scored & (label_class == NORMAL)
    is_background = scored & (label_class == BACKGROUND)
    tp = int((flagged & is_botnet).sum())
    fp = int((flagged & is_normal).sum())
    n_botnet = int(is_botnet.sum())
    n_normal = int(is_normal.sum())
    n_background = int(is_background.sum())

    y_true, y_score = _binary_labels(label_class, scores)
    result: dict[str, Any] = {
        "roc_auc": roc_auc(y_true, y_score),
        "pr_auc": pr_auc(y_true, y_score),
    }
    result.update(confusion_rates(tp, fp, n_normal - fp, n_botnet - tp))
    result["tpr_at_fpr"] = {
        str(level): tpr_at_fpr(y_true, y_score, level) for level in TARGET_FPRS
    }
    result["background_flag_rate"] = _ratio(
        int((flagged & is_background).sum()), n_background
    )
    result["n_botnet"] = n_botnet
    result["n_normal"] = n_normal
    result["n_background"] = n_background
    result["n_unscored"] = int((~scored).sum())
    return result


def per_label_recall(
    labels: np.ndarray,
    label_class: np.ndarray,
    scores: np.ndarray,
    threshold: float,
    *,
    flagged: np.ndarray | None = None,
) -> dict[str, dict[str, Any]]:
    """Compute the recall at ``threshold`` for each raw label among botnet flows.

    ``flagged``, when given, replaces the threshold rule as the prediction.

    Returns ``{label: {"flows", "unscored", "recall"}}`` sorted by label, where
    ``flows`` counts every botnet flow with that label, ``unscored`` those
    without a score, and ``recall`` is the share of the scored ones above the
    threshold (``None`` when all are unscored).
    """
    labels = np.asarray(labels, dtype=object)
    label_class = np.asarray(label_class, dtype=object)
    scores = np.asarray(scores, dtype=np.float64)
    if flagged is None:
        flagged = np.where(np.isnan(scores), -np.inf, scores) > threshold
    flagged = np.asarray(flagged, dtype=bool)
    botnet = label_class == BOTNET
    result: dict[str, dict[str, Any]] = {}
    for label in sorted({str(x) for x in labels[botnet]}):
        rows = botnet & (labels.astype(str) == label)
        has_score = rows & ~np.isnan(scores)
        n_scored = int(has_score.sum())
        result[label] = {
            "flows": int(rows.sum()),
            "unscored": int(rows.sum()) - n_scored,
            "recall": _ratio(int((flagged & has_score).sum()), n_scored),
        }
    return result


def correction_factor(t: np.ndarray | float, alpha: float = ALPHA) -> np.ndarray:
    """Return cf(t) = exp(-alpha * t) + 1 for the 1-based window index ``t``.

    Early windows weigh up to twice as much, which rewards detecting a bot soon
    after it starts.
    """
    return np.exp(-alpha * np.asarray(t, dtype=np.float64)) + 1.0


def host_window_table(
    flows: pl.DataFrame,
    *,
    window_seconds: float,
    threshold: float | None = None,
    host_column: str = "host",
    score_column: str = "flow_score",
    flag_column: str | None = None,
) -> pl.DataFrame:
    """Aggregate scored flows into one labeled decision per host and time window.

    Windows are ``window_seconds`` wide and aligned to the Unix epoch, like the
    detector's alert windows (``window_start`` of ``score_hosts``). Window
    ``t = 1`` is the one holding the earliest flow in ``flows``, and ``t``
    counts every later window, empty ones included. A host is ``botnet`` in a
    window if any of its flows there is labeled botnet, else ``normal`` if any
    is labeled normal. Hosts with only background or unlabeled flows are left
    out, and so are flows with a null host.

    A host is predicted positive in a window when any of its flows there has a
    score strictly above ``threshold``, or, when ``flag_column`` names a
    Boolean column, when that column is true for any of its flows.

    Returns
    -------
    polars.DataFrame
        Columns ``window`` (Int64, 1-based), ``host``, ``label_class``
        (``botnet`` or ``normal``) and ``predicted`` (Boolean).
    """
    if window_seconds <= 0:
        msg = f"window_seconds must be positive, got {window_seconds}"
        raise ValueError(msg)
    if (threshold is None) == (flag_column is None):
        msg = "pass exactly one of threshold and flag_column"
        raise ValueError(msg)
    empty = pl.DataFrame(
        schema={
            "window": pl.Int64,
            "host": pl.String,
            "label_class": pl.String,
            "predicted": pl.Boolean,
        }
    )
    flows = flows.filter(pl.col(host_column).is_not_null())
    if flows.height == 0:
        return empty
    if flag_column is not None:
        flagged = pl.col(flag_column).fill_null(False)
    else:
        flagged = (pl.col(score_column).fill_nan(None) > threshold).fill_null(False)
    window_us = int(round(window_seconds * 1_000_000))
    epoch_us = pl.col("start_time").dt.epoch("us")
    first_window = flows.select(epoch_us.min() // window_us).item()
    table = (
        flows.select(
            (epoch_us // window_us - first_window + 1).cast(pl.Int64).alias("window"),
            pl.col(host_column).cast(pl.String).alias("host"),
            (pl.col("label_class") == BOTNET).fill_null(False).alias("is_botnet"),
            (pl.col("label_class") == NORMAL).fill_null(False).alias("is_normal"),
            flagged.alias("flagged"),
        )
        .group_by("window", "host")
        .agg(
            pl.col("is_botnet").any(),
            pl.col("is_normal").any(),
            pl.col("flagged").any().alias("predicted"),
        )
        .filter(pl.col("is_botnet") | pl.col("is_normal"))
        .select(
            "window",
            "host",
            pl.when(pl.col("is_botnet"))
            .then(pl.lit(BOTNET))
            .otherwise(pl.lit(NORMAL))
            .alias("label_class"),
            "predicted",
        )
        .sort("window", "host")
    )
    if table.height == 0:
        return empty
    return table


def host_window_metrics(table: pl.DataFrame, *, alpha: float = ALPHA) -> dict[str, Any]:
    """Compute plain and corrected host-window metrics from ``host_window_table``.

    The plain rates count each host-window decision once. The corrected
    totals, per window t with ``N_bot`` botnet and ``N_norm`` normal hosts,
    are ``tTP += TP·cf(t)/N_bot``, ``tFN += FN·cf(t)/N_bot``,
    ``tFP += FP/N_norm`` and ``tTN += TN/N_norm``. A window without botnet
    hosts adds nothing to tTP and tFN, and one without normal hosts adds
    nothing to tFP and tTN. Rates and F1 come from the totals.

    Returns
    -------
    dict
        ``tpr``, ``fpr``, ``precision``, ``f1``, ``tp``, ``fp``, ``tn``,
        ``fn``, ``windows`` (windows with at least one labeled host) and
        ``corrected`` with ``tpr``, ``fpr``, ``precision`` and ``f1``.
    """
    is_botnet = pl.col("label_class") == BOTNET
    is_normal = pl.col("label_class") == NORMAL
    predicted = pl.col("predicted")
    per_window = table.group_by("window").agg(
        (is_botnet & predicted).sum().alias("tp"),
        (is_botnet & ~predicted).sum().alias("fn"),
        (is_normal & predicted).sum().alias("fp"),
        (is_normal & ~predicted).sum().alias("tn"),
    )
    window = per_window["window"].to_numpy()
    tp, fn, fp, tn = (
        per_window[c].to_numpy().astype(np.float64) for c in "tp fn fp tn".split()
    )
    n_bot = tp + fn
    n_norm = fp + tn
    cf = correction_factor(window, alpha)
    # np.divide with ``where`` leaves windows without a class at zero, so they
    # add nothing to the corrected totals of that class.
    bot_weight = np.divide(cf, n_bot, out=np.zeros_like(cf), where=n_bot > 0)
    norm_weight = np.divide(1.0, n_norm, out=np.zeros_like(cf), where=n_norm > 0)

    result = confusion_rates(tp.sum(), fp.sum(), tn.sum(), fn.sum())
    result.update(
        {
            "tp": int(tp.sum()),
            "fp": int(fp.sum()),
            "tn": int(tn.sum()),
            "fn": int(fn.sum()),
            "windows": int(len(window)),
        }
    )
    result["corrected"] = confusion_rates(
        float((tp * bot_weight).sum()),
        float((fp * norm_weight).sum()),
        float((tn * norm_weight).sum()),
        float((fn * bot_weight).sum()),
    )
    return result


def host_classes(flows: pl.DataFrame, *, host_column: str = "host") -> pl.DataFrame:
    """Return the class of each host in ``flows``.

    A host is botnet if any of its flows is botnet, else normal if any is
    normal, else background. Hosts whose flows are all unlabeled or
    ``unknown`` get the class ``background``, because nothing verifies them.
    Columns ``host`` and ``host_class``.
    """
    return (
        flows.filter(pl.col(host_column).is_not_null())
        .group_by(pl.col(host_column).cast(pl.String).alias("host"))
        .agg(
            (pl.col("label_class") == BOTNET).any().alias("any_botnet"),
            (pl.col("label_class") == NORMAL).any().alias("any_normal"),
        )
        .select(
            "host",
            pl.when(pl.col("any_botnet"))
            .then(pl.lit(BOTNET))
            .when(pl.col("any_normal"))
            .then(pl.lit(NORMAL))
            .otherwise(pl.lit(BACKGROUND))
            .alias("host_class"),
        )
    )


def hosts_alerted(
    flows: pl.DataFrame,
    alerted_hosts: list[str] | pl.Series,
    *,
    host_column: str = "host",
) -> dict[str, int]:
    """Count the distinct alerted hosts by host class (see ``host_classes``).

    Returns ``{"botnet", "normal", "background"}``. An alerted host that has
    no flow in ``flows`` counts as background.
    """
    alerted = pl.DataFrame({"host": pl.Series(list(alerted_hosts), dtype=pl.String)})
    alerted = alerted.unique()
    joined = alerted.join(
        host_classes(flows, host_column=host_column), on="host", how="left"
    )
    counts = joined["host_class"].fill_null(BACKGROUND).value_counts()
    by_class = dict(
        zip(counts["host_class"].to_list(), counts["count"].to_list(), strict=True)
    )
    return {name: int(by_class.get(name, 0)) for name in (BOTNET, NORMAL, BACKGROUND)}
