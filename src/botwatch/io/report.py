"""Counts of rows read, accepted and rejected, and a summary of the flows."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import polars as pl

from botwatch._atomic import atomic_open
from botwatch.io.schema import LABEL_CLASSES

__all__ = ["FileReport", "FlowSummary", "ReadReport", "write_rejects"]

# Key under which rows without a label are counted in ``label_classes``.
UNLABELED = "unlabeled"


def _iso(moment: datetime | None) -> str | None:
    if moment is None:
        return None
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _protocol_order(row: dict[str, Any]) -> tuple[int, bool, str]:
    # Most frequent first, ties in protocol name order with null first, as
    # polars sorts.
    proto = row["proto"]
    return (-row["count"], proto is not None, proto or "")


@dataclass
class FlowSummary:
    """Summary of accepted flows: label classes, hosts, time range, protocols.

    ``label_classes`` counts every class of ``LABEL_CLASSES`` (zero included)
    and, under ``unlabeled``, flows without a label. ``hosts`` is the number
    of distinct source addresses, ``start`` and ``end`` the first and last
    flow start (UTC), and ``protocols`` counts flows by protocol, most
    frequent first.
    """

    label_classes: dict[str, int] = field(default_factory=dict)
    hosts: int = 0
    start: datetime | None = None
    end: datetime | None = None
    protocols: dict[str, int] = field(default_factory=dict)

    @classmethod
    def of(cls, flows: pl.DataFrame) -> FlowSummary:
        """Summarise a flow table."""
        # One query, so polars computes the counts in parallel.
        summary = flows.select(
            pl.col("label_class").value_counts().implode().alias("label_classes"),
            pl.col("proto").value_counts().implode().alias("protocols"),
            pl.col("src_addr").n_unique().alias("hosts"),
            pl.col("start_time").min().alias("start"),
            pl.col("start_time").max().alias("end"),
        ).row(0, named=True)
        counts = {row["label_class"]: row["count"] for row in summary["label_classes"]}
        label_classes = {name: int(counts.get(name, 0)) for name in LABEL_CLASSES}
        label_classes[UNLABELED] = int(counts.get(None, 0))
        protocols = sorted(summary["protocols"], key=_protocol_order)
        return cls(
            label_classes=label_classes,
            hosts=summary["hosts"] if flows.height else 0,
            start=summary["start"] if flows.height else None,
            end=summary["end"] if flows.height else None,
            protocols={str(row["proto"]): int(row["count"]) for row in protocols},
        )

    def to_dict(self) -> dict[str, object]:
        """Return the summary as JSON-ready values (times as ISO 8601 UTC)."""
        return {
            "label_classes": dict(self.label_classes),
            "hosts": self.hosts,
            "start": _iso(self.start),
            "end": _iso(self.end),
            "protocols": dict(self.protocols),
        }


@dataclass
class FileReport:
    """Counts for one input file."""

    path: str
    format: str
    compression: str
    rows_read: int = 0
    rows_accepted: int = 0
    rows_rejected: int = 0
    rejected_by_reason: dict[str, int] = field(default_factory=dict)
    summary: FlowSummary = field(default_factory=FlowSummary)

    @property
    def rejected_fraction(self) -> float:
        """Share of rows read that were rejected (0.0 for a file without rows)."""
        return self.rows_rejected / self.rows_read if self.rows_read else 0.0

    def to_dict(self) -> dict[str, object]:
        """Return the counts as JSON-ready values."""
        return {
            "path": self.path,
            "format": self.format,
            "compression": self.compression,
            "rows_read": self.rows_read,
            "rows_accepted": self.rows_accepted,
            "rows_rejected": self.rows_rejected,
            "rejected_by_reason": dict(self.rejected_by_reason),
            **self.summary.to_dict(),
        }


@dataclass
class ReadReport:
    """Counts over all files read by one :func:`~botwatch.io.read_flows` call.

    Every data line is counted once in ``rows_read`` and then in either
    ``rows_accepted`` or ``rows_rejected``. Header, comment, footer and blank
    lines are not rows.
    """

    rows_read: int = 0
    rows_accepted: int = 0
    rows_rejected: int = 0
    rejected_by_reason: dict[str, int] = field(default_factory=dict)
    per_file: list[FileReport] = field(default_factory=list)
    summary: FlowSummary = field(default_factory=FlowSummary)

    @property
    def label_classes(self) -> dict[str, int]:
        """Flows per label class over all files (see :class:`FlowSummary`)."""
        return self.summary.label_classes

    @property
    def hosts(self) -> int:
        """Distinct source addresses over all files."""
        return self.summary.hosts

    @property
    def protocols(self) -> dict[str, int]:
        """Flows per protocol over all files, most frequent first."""
        return self.summary.protocols

    @classmethod
    def combine(cls, per_file: list[FileReport], flows: pl.DataFrame) -> ReadReport:
        """Add up per-file counts and summarise the combined flows."""
        by_reason: dict[str, int] = {}
        for report in per_file:
            for reason, count in report.rejected_by_reason.items():
                by_reason[reason] = by_reason.get(reason, 0) + count
        return cls(
            rows_read=sum(r.rows_read for r in per_file),
            rows_accepted=sum(r.rows_accepted for r in per_file),
            rows_rejected=sum(r.rows_rejected for r in per_file),
            rejected_by_reason=dict(sorted(by_reason.items(), key=lambda kv: -kv[1])),
            per_file=per_file,
            # One file's summary is already the summary of all flows.
            summary=per_file[0].summary
            if len(per_file) == 1
            else FlowSummary.of(flows),
        )

    def to_dict(self) -> dict[str, object]:
        """Return the totals as the keys ``botwatch inspect --json`` prints.

        The keys are ``rows_read``, ``rows_accepted``, ``rows_rejected``,
        ``rejected_by_reason``, ``label_classes``, ``hosts``, ``start``,
        ``end`` and ``protocols``, plus ``files`` with the same keys per file.
        """
        return {
            "rows_read": self.rows_read,
            "rows_accepted": self.rows_accepted,
            "rows_rejected": self.rows_rejected,
            "rejected_by_reason": dict(self.rejected_by_reason),
            **self.summary.to_dict(),
            "files": [report.to_dict() for report in self.per_file],
        }


def write_rejects(path: str | os.PathLike[str], rejected: pl.DataFrame) -> None:
    """Write rejected rows as JSON lines, atomically.

    Each line is an object with ``file``, ``line``, ``reason``, ``column``,
    ``value`` and ``text`` (the rejected line as written, with undecodable
    bytes replaced by U+FFFD).
    """
    with atomic_open(path, "w", encoding="utf-8") as handle:
        for row in rejected.iter_rows(named=True):
            handle.write(json.dumps(row, ensure_ascii=False) + "\n")
