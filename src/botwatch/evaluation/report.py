"""The evaluation report: PNG figures and one self-contained HTML page.

The page embeds every figure as a base64 ``data:`` URI, so it opens offline
and can be mailed as one file. The same figures are also written as PNG files
beside it. Figures are drawn on ``matplotlib.figure.Figure`` objects with the
Agg canvas, so no display and no global pyplot state is needed.
"""

from __future__ import annotations

import base64
import html
import io
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from sklearn.metrics import precision_recall_curve, roc_curve

from botwatch._atomic import atomic_open

__all__ = ["FIGURES", "ReportData", "render_figures", "write_report"]

# File name and caption of each figure, in page order.
FIGURES: dict[str, str] = {
    "roc.png": "ROC curves, botnet against normal flows (FPR on a log scale)",
    "precision_recall.png": "Precision-recall curves, botnet against normal flows",
    "score_distribution.png": "Flow anomaly scores by label class, with the threshold",
    "host_timeline.png": "Host anomaly scores over time for the top hosts, with alerts",
}

# Hosts drawn in the timeline: those with the most alerts, then the highest score.
TIMELINE_HOSTS = 8

# Every curve of the ROC figure stops at this FPR, because a log axis cannot
# show 0 and no operating point of interest lies below it.
MIN_PLOTTED_FPR = 1e-5

CLASS_COLORS = {"botnet": "#d62728", "normal": "#1f77b4", "background": "#7f7f7f"}


@dataclass
class ReportData:
    """Everything the report shows.

    ``curves`` maps a detector name to ``(y_true, scores, threshold)`` over its
    scored botnet (1) and normal (0) flows. ``flow_scores`` has the primary
    model's ``label_class`` and ``flow_score`` per flow. ``host_scores`` has
    ``host``, ``window_start``, ``host_score`` and ``host_class`` per host and
    time window. ``threshold`` is the primary model's, on the score scale.
    """

    metrics: dict[str, Any]
    curves: dict[str, tuple[np.ndarray, np.ndarray, float]]
    flow_scores: pl.DataFrame
    host_scores: pl.DataFrame
    threshold: float
    primary: str = "RVAE"
    supervised: set[str] = field(default_factory=set)


def _png_bytes(figure: Figure) -> bytes:
    FigureCanvasAgg(figure)
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=110)
    return buffer.getvalue()


def _has_both_classes(y_true: np.ndarray) -> bool:
    return bool(y_true.any()) and not bool(y_true.all())


def _finish_curve_axes(axes: Any, plotted: int, legend_loc: str) -> None:
    if plotted:
        axes.legend(loc=legend_loc, fontsize="small")
    else:
        axes.text(
            0.5,
            0.5,
            "no scored botnet and normal flows",
            ha="center",
            transform=axes.transAxes,
        )
    axes.grid(alpha=0.3)


def _curve_label(name: str, data: ReportData) -> str:
    return f"{name} (supervised)" if name in data.supervised else name


def _roc_figure(data: ReportData) -> Figure:
    figure = Figure(figsize=(6.4, 4.8), layout="constrained")
    axes = figure.add_subplot()
    plotted = 0
    for name, (y_true, scores, threshold) in data.curves.items():
        if not _has_both_classes(y_true):
            continue
        plotted += 1
        fpr, tpr, _ = roc_curve(y_true, scores)
        line = axes.step(
            np.maximum(fpr, MIN_PLOTTED_FPR),
            tpr,
            where="post",
            label=_curve_label(name, data),
            linewidth=2.2 if name == data.primary else 1.2,
            linestyle="--" if name in data.supervised else "-",
        )[0]

        predicted = scores > threshold
        point_tpr = predicted[y_true == 1].mean()
        point_fpr = max(predicted[y_true == 0].mean(), MIN_PLOTTED_FPR)
        axes.plot(point_fpr, point_tpr, "o", color=line.get_color())
    for level in (0.001, 0.01):
        axes.axvline(level, color="#bbbbbb", linewidth=0.8, linestyle=":")

    axes.set_xscale("log")
    axes.set_xlim(MIN_PLOTTED_FPR, 1.0)
    axes.set_ylim(0.0, 1.02)
    axes.set_xlabel("False positive rate (normal flows)")
    axes.set_ylabel("True positive rate (botnet flows)")
    axes.set_title("ROC; dots mark each model's threshold")
    _finish_curve_axes(axes, plotted, "lower right")
    return figure


def _precision_recall_figure(data: ReportData) -> Figure:
    figure = Figure(figsize=(6.4, 4.8), layout="constrained")
    axes = figure.add_subplot()
    plotted = 0
    for name, (y_true, scores, _) in data.curves.items():
        if not _has_both_classes(y_true):
            continue
        plotted += 1
        precision, recall, _ = precision_recall_curve(y_true, scores)
        axes.step(
            recall,
            precision,
            where="post",
            label=_curve_label(name, data),
            linewidth=2.2 if name == data.primary else 1.2,
            linestyle="--" if name in data.supervised else "-",
        )
    axes.set_xlim(0.0, 1.0)
    axes.set_ylim(0.0, 1.02)
    axes.set_xlabel("Recall (botnet flows)")
    axes.set_ylabel("Precision")
    axes.set_title("Precision-recall")
    _finish_curve_axes(axes, plotted, "lower left")
    return figure


def _score_distribution_figure(data: ReportData) -> Figure:
    figure = Figure(figsize=(9.6, 4.2), layout="constrained")
    axes = figure.add_subplot()
    scored = data.flow_scores.filter(pl.col("flow_score").is_not_null())
    scores = scored["flow_score"].to_numpy()
    if len(scores):
        # Clip the tails into the edge bins so that a few extreme scores do
        # not squeeze every class into one bar.
        low, high = np.quantile(scores, [0.0005, 0.9995])
        low, high = min(low, data.threshold), max(high, data.threshold)
        if high <= low:
            high = low + 1.0
        bins = np.linspace(low, high, 80)

        for label_class, color in CLASS_COLORS.items():
            values = scored.filter(pl.col("label_class") == label_class)["flow_score"]
            if values.len() == 0:
                continue
            axes.hist(
                np.clip(values.to_numpy(), low, high),
                bins=bins,
                density=True,
                histtype="step",
                linewidth=1.6,
                color=color,
                label=f"{label_class} ({values.len():,} flows)",
            )
        axes.set_yscale("log")

    axes.axvline(data.threshold, color="black", linestyle="--", linewidth=1.2)
    axes.annotate(
        f" threshold {data.threshold:.3g}",
        xy=(data.threshold, 1.0),
        xycoords=("data", "axes fraction"),
        va="top",
        fontsize="small",
    )
    axes.set_xlabel(f"{data.primary} flow anomaly score (higher is more anomalous)")
    axes.set_ylabel("Density (log scale)")
    axes.set_title("Flow scores by label class; tails clipped into the edge bins")
    if len(scores):
        axes.legend(loc="upper right", fontsize="small")
    return figure


def _top_hosts(data: ReportData) -> list[str]:
    ranked = (
        data.host_scores.group_by("host")
        .agg(
            (pl.col("host_score") > data.threshold).sum().alias("alerts"),
            pl.col("host_score").max().alias("max_score"),
        )
        .sort(["alerts", "max_score", "host"], descending=[True, True, False])
    )
    return ranked["host"].head(TIMELINE_HOSTS).to_list()


def _host_timeline_figure(data: ReportData) -> Figure:
    figure = Figure(figsize=(12.0, 4.8), layout="constrained")
    axes = figure.add_subplot()
    for host in _top_hosts(data):
        rows = data.host_scores.filter(pl.col("host") == host).sort("window_start")
        host_class = rows["host_class"][0]
        times = rows["window_start"].to_list()
        values = rows["host_score"].to_numpy()
        alerted = values > data.threshold
        line = axes.plot(
            times,
            values,
            marker=".",
            linewidth=1.0,
            label=f"{host} ({host_class}, {int(alerted.sum())} alerts)",
        )[0]
        axes.scatter(
            [t for t, a in zip(times, alerted, strict=True) if a],
            values[alerted],
            marker="^",
            s=60,
            color=line.get_color(),
            edgecolors="black",
            zorder=3,
        )
    axes.axhline(data.threshold, color="black", linestyle="--", linewidth=1.2)
    axes.set_xlabel("Time window start (UTC)")
    axes.set_ylabel(f"{data.primary} host anomaly score")
    axes.set_title(
        f"Top {TIMELINE_HOSTS} hosts by alerts; triangles mark alerts, "
        "the dashed line the threshold"
    )
    if data.host_scores.height:
        axes.legend(loc="center left", bbox_to_anchor=(1.0, 0.5), fontsize="small")
    axes.grid(alpha=0.3)
    return figure


def render_figures(data: ReportData) -> dict[str, bytes]:
    """Draw every figure of ``FIGURES`` and return its PNG bytes by file name."""
    makers = {
        "roc.png": _roc_figure,
        "precision_recall.png": _precision_recall_figure,
        "score_distribution.png": _score_distribution_figure,
        "host_timeline.png": _host_timeline_figure,
    }
    return {name: _png_bytes(makers[name](data)) for name in FIGURES}


def _format(value: Any, digits: int = 4) -> str:
    if value is None:
        return "n/a"
    if isinstance(value, float):
        return f"{value:.{digits}f}"
    if isinstance(value, int):
        return f"{value:,}"
    return html.escape(str(value))


HEADLINE_COLUMNS: tuple[tuple[str, tuple[str, ...]], ...] = (
    # (heading, key path inside one model's metrics)
    ("ROC-AUC", ("flow", "roc_auc")),
    ("PR-AUC", ("flow", "pr_auc")),
    ("TPR @ FPR 0.1%", ("flow", "tpr_at_fpr", "0.001")),
    ("TPR @ FPR 1%", ("flow", "tpr_at_fpr", "0.01")),
    ("TPR", ("flow", "tpr")),
    ("FPR", ("flow", "fpr")),
    ("Precision", ("flow", "precision")),
    ("F1", ("flow", "f1")),
    ("Background flagged", ("flow", "background_flag_rate")),
    ("Host-window F1", ("host_window", "f1")),
    ("Corrected F1", ("host_window", "corrected", "f1")),
)


def _lookup(metrics: dict[str, Any], path: tuple[str, ...]) -> Any:
    value: Any = metrics
    for key in path:
        value = value.get(key) if isinstance(value, dict) else None
    return value


def _headline_rows(data: ReportData) -> list[tuple[str, dict[str, Any]]]:
    rows = [(data.primary, data.metrics)]
    for name, metrics in data.metrics.get("baselines", {}).items():
        rows.append((name, metrics))
    return rows


def _headline_table(data: ReportData) -> str:
    heads = "".join(f"<th>{html.escape(h)}</th>" for h, _ in HEADLINE_COLUMNS)
    body = []
    for name, metrics in _headline_rows(data):
        label = html.escape(name)
        if name in data.supervised:
            label += ' <span class="tag">supervised, trained on labels</span>'
        cells = "".join(
            f"<td>{_format(_lookup(metrics, path))}</td>"
            for _, path in HEADLINE_COLUMNS
        )
        css = ' class="primary"' if name == data.primary else ""
        body.append(f"<tr{css}><th>{label}</th>{cells}</tr>")
    return (
        f"<table><thead><tr><th>Model</th>{heads}</tr></thead>"
        f"<tbody>{''.join(body)}</tbody></table>"
    )


def _host_window_table(data: ReportData) -> str:
    keys = ("tpr", "fpr", "precision", "f1")
    heads = "<th>TPR</th><th>FPR</th><th>Precision</th><th>F1</th>"
    groups = (
        ("Host windows (alert = positive)", ()),
        ("Corrected (early windows weigh more)", ("corrected",)),
    )
    body = []
    for name, metrics in _headline_rows(data):
        cells = []
        for _, prefix in groups:
            part = _lookup(metrics, ("host_window", *prefix))
            cells.extend(f"<td>{_format(_lookup(part, (k,)))}</td>" for k in keys)
        body.append(f"<tr><th>{html.escape(name)}</th>{''.join(cells)}</tr>")
    group_heads = "".join(f"<th colspan=4>{html.escape(g)}</th>" for g, _ in groups)
    return (
        f"<table><thead><tr><th rowspan=2>Model</th>{group_heads}</tr>"
        f"<tr>{heads * len(groups)}</tr></thead><tbody>{''.join(body)}</tbody></table>"
    )


def _per_label_table(data: ReportData) -> str:
    body = []
    for label, entry in data.metrics["per_label"].items():
        body.append(
            f"<tr><th>{html.escape(label)}</th><td>{_format(entry['flows'])}</td>"
            f"<td>{_format(entry.get('unscored'))}</td>"
            f"<td>{_format(entry['recall'])}</td></tr>"
        )
    if not body:
        body.append(
            "<tr><td colspan=4>No botnet flows in the evaluated data.</td></tr>"
        )
    return (
        "<table><thead><tr><th>Botnet label</th><th>Flows</th><th>Unscored</th>"
        "<th>Recall at threshold</th></tr></thead>"
        f"<tbody>{''.join(body)}</tbody></table>"
    )


def _counts_table(data: ReportData) -> str:
    flow = data.metrics["flow"]
    alerted = data.metrics["hosts_alerted"]
    hw = data.metrics["host_window"]
    rows = [
        (
            "Scored botnet / normal / background flows",
            f"{flow['n_botnet']:,} / {flow['n_normal']:,} / {flow['n_background']:,}",
        ),
        ("Flows without a monitored host (unscored)", f"{flow.get('n_unscored', 0):,}"),
        (
            "Hosts alerted: botnet / normal / background",
            f"{alerted['botnet']:,} / {alerted['normal']:,} / "
            f"{alerted['background']:,}",
        ),
        (
            "Host-window decisions: TP / FP / TN / FN",
            f"{hw.get('tp', 0):,} / {hw.get('fp', 0):,} / {hw.get('tn', 0):,} / "
            f"{hw.get('fn', 0):,}",
        ),
    ]
    body = "".join(f"<tr><th>{k}</th><td>{html.escape(v)}</td></tr>" for k, v in rows)
    return f"<table class=narrow><tbody>{body}</tbody></table>"


def _run_table(data: ReportData) -> str:
    run = data.metrics.get("run", {})
    rows = []
    for key, value in run.items():
        if isinstance(value, list) and all(isinstance(v, str) for v in value):
            cell = "<br>".join(html.escape(v) for v in value)
        elif isinstance(value, (dict, list)):
            text = json.dumps(value, indent=1, default=str)
            cell = f"<pre>{html.escape(text)}</pre>"
        else:
            cell = html.escape(str(value))
        rows.append(f"<tr><th>{html.escape(key)}</th><td>{cell}</td></tr>")
    return f"<table class=narrow><tbody>{''.join(rows)}</tbody></table>"


STYLE = """
body { font-family: sans-serif; margin: 24px; color: #222; max-width: 1340px; }
h1 { font-size: 1.5em; } h2 { font-size: 1.2em; margin-top: 1.6em; }
table { border-collapse: collapse; margin: 8px 0; font-size: 0.9em; }
th, td { border: 1px solid #ccc; padding: 4px 8px; text-align: right; }
thead th { background: #f0f0f0; text-align: center; }
tbody th { text-align: left; font-weight: normal; }
tr.primary { font-weight: bold; background: #fff8e0; }
table.narrow td { text-align: left; }
pre { margin: 0; font-size: 0.85em; white-space: pre-wrap; }
.tag { font-size: 0.8em; color: #a04000; }
.figures { display: flex; flex-wrap: wrap; gap: 12px; }
.figures figure { flex: 1 1 600px; max-width: 660px; }
figure { margin: 0; } figcaption { font-size: 0.85em; color: #555; }
img { max-width: 100%; border: 1px solid #ddd; }
"""


def _figure_html(name: str, png: bytes) -> str:
    encoded = base64.b64encode(png).decode("ascii")
    return (
        f'<figure><img src="data:image/png;base64,{encoded}" alt="{name}" '
        f'data-file="{name}"><figcaption>{html.escape(FIGURES[name])} '
        f"({name})</figcaption></figure>"
    )


def render_html(data: ReportData, figures: dict[str, bytes]) -> str:
    """Return the report page with ``figures`` embedded as data URIs."""
    threshold = html.escape(f"{data.threshold:.6g}")
    window = data.metrics["host_window"]["window_seconds"]
    side_by_side = "".join(
        _figure_html(n, figures[n]) for n in ("roc.png", "precision_recall.png")
    )
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<title>botwatch evaluation</title><style>{STYLE}</style></head><body>
<h1>botwatch evaluation</h1>
<p>Positives are botnet flows and negatives normal flows; background flows are
unverified, so they are left out of the rates and only their flag rate is shown.
Threshold of {html.escape(data.primary)}: {threshold}. A host window whose score
is above it is an alert, and a flow is flagged when its window alerted and its own
score is above the threshold too. Host windows are {window} s wide.</p>
<h2>Headline (flow level unless marked)</h2>
{_headline_table(data)}
<h2>Host-window metrics</h2>
<p>One decision per host and time window: a host is botnet in a window if any of
its flows there is labeled botnet, normal if any is labeled normal, and left out
if all are background. A host is predicted positive in a window when any of its
flows there is flagged, which is when the detector alerted on it. The corrected
variant weights early botnet windows more (cf(t) = e<sup>-0.01 t</sup> + 1) and
each window's normal hosts equally.</p>
{_host_window_table(data)}
<h2>Alert volume</h2>
{_counts_table(data)}
<h2>Curves</h2>
<div class="figures">{side_by_side}</div>
<h2>Score distributions</h2>
{_figure_html("score_distribution.png", figures["score_distribution.png"])}
<h2>Top hosts over time</h2>
{_figure_html("host_timeline.png", figures["host_timeline.png"])}
<h2>Recall by botnet label ({html.escape(data.primary)})</h2>
{_per_label_table(data)}
<h2>Data, split and model</h2>
{_run_table(data)}
</body></html>
"""


def write_report(directory: str | Path, data: ReportData) -> list[Path]:
    """Write ``metrics.json``, ``report.html`` and every PNG into ``directory``.

    Each file is written atomically. Returns the paths written.
    """
    directory = Path(directory)
    figures = render_figures(data)
    written = []
    for name, png in figures.items():
        with atomic_open(directory / name, "wb") as handle:
            handle.write(png)
        written.append(directory / name)
    with atomic_open(directory / "metrics.json", "w", encoding="utf-8") as handle:
        json.dump(data.metrics, handle, indent=2, allow_nan=False, default=str)
        handle.write("\n")
    written.append(directory / "metrics.json")
    with atomic_open(directory / "report.html", "w", encoding="utf-8") as handle:
        handle.write(render_html(data, figures))
    written.append(directory / "report.html")
    return written
