"""Alerts: one monitored host in one time window whose score exceeds the threshold."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import IO, Any

import polars as pl

__all__ = ["ALERT_KEYS", "alert_records", "write_alerts"]

ALERT_KEYS = (
    "window_start",
    "window_end",
    "host",
    "score",
    "threshold",
    "flows",
    "top_flows",
    "model",
)

# Flows listed per alert as its evidence.
TOP_FLOWS = 5


def _iso(value: Any) -> str:
    """Format a UTC datetime as ISO 8601 with a Z suffix."""
    return value.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def alert_records(
    alerts: pl.DataFrame,
    scored: pl.DataFrame,
    *,
    model_id: str,
    top_flows: int = TOP_FLOWS,
) -> Iterator[dict[str, Any]]:
    """Yield one JSON-ready dict per alert, in time order then host.

    ``alerts`` comes from ``predict`` (host, window_start, window_end, flows,
    host_score, threshold); ``scored`` from ``score_flows``. ``top_flows``
    lists the highest-scoring flows of the host in the window by file and line.
    """
    if alerts.height == 0:
        return
    window = alerts.select("host", "window_start", "window_end")
    evidence = (
        scored.filter(pl.col("flow_score").is_not_null())
        .join(window, on="host", how="inner")
        .filter(
            (pl.col("start_time") >= pl.col("window_start"))
            & (pl.col("start_time") < pl.col("window_end"))
        )
        .sort("flow_score", "line", descending=[True, False])
        .group_by("host", "window_start", maintain_order=True)
        .head(top_flows)
    )
    grouped: dict[tuple[str, Any], list[dict[str, Any]]] = {}
    for row in evidence.select(
        "host", "window_start", "file", "line", "flow_score"
    ).iter_rows():
        grouped.setdefault((row[0], row[1]), []).append(
            {"file": row[2], "line": row[3], "score": round(float(row[4]), 4)}
        )
    for row in alerts.sort("window_start", "host").iter_rows(named=True):
        yield {
            "window_start": _iso(row["window_start"]),
            "window_end": _iso(row["window_end"]),
            "host": row["host"],
            "score": round(float(row["host_score"]), 4),
            "threshold": round(float(row["threshold"]), 4),
            "flows": int(row["flows"]),
            "top_flows": grouped.get((row["host"], row["window_start"]), []),
            "model": model_id,
        }


def write_alerts(records: Iterator[dict[str, Any]], handle: IO[str]) -> int:
    """Write records as JSON lines; return how many were written."""
    count = 0
    for record in records:
        handle.write(json.dumps(record, sort_keys=False) + "\n")
        count += 1
    return count
