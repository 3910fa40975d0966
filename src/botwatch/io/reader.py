"""Reading whole flow files into one table: :func:`read_flows`."""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from botwatch.errors import ConfigError, FlowFormatError, TooManyRejectedError
from botwatch.io.chunks import REJECT_SCHEMA
from botwatch.io.fields import REASONS
from botwatch.io.report import FileReport, FlowSummary, ReadReport, write_rejects
from botwatch.io.schema import FLOW_SCHEMA
from botwatch.io.stream import check_options, iter_chunks

__all__ = ["ReadResult", "read_flows"]

logger = logging.getLogger(__name__)

PathLike = str | os.PathLike[str]

# Decompressed bytes parsed at a time when reading a whole file. Parsing in
# chunks lets decompression of the next chunk overlap parsing of this one.
_CHUNK_BYTES = 8 * 1024 * 1024
# Chunks parsed at once, for formats that allow it. Each chunk in flight adds
# its raw table to peak memory, so this stays small on machines with many cores.
_PARSE_WORKERS = max(1, min(2, os.cpu_count() or 1))


@dataclass
class ReadResult:
    """Flows read by :func:`read_flows`, with the report and the rejected rows.

    ``rejected`` has the columns ``file``, ``line``, ``reason``, ``column``,
    ``value`` and ``text``.
    """

    flows: pl.DataFrame
    report: ReadReport
    rejected: pl.DataFrame = field(
        default_factory=lambda: pl.DataFrame(schema=REJECT_SCHEMA)
    )


def strict_error(rejected: pl.DataFrame) -> FlowFormatError:
    """Return the error describing the first rejected row."""
    first = rejected.sort("line").row(0, named=True)
    column = f", column {first['column']}" if first["column"] else ""
    value = f" {first['value']!r}" if first["value"] is not None else ""
    return FlowFormatError(
        f"{first['file']}, line {first['line']}{column}: "
        f"{REASONS.get(first['reason'], first['reason'])}{value}. Fix the line, "
        "or read without --strict to skip bad rows and count them",
        path=first["file"],
        line=first["line"],
        column=first["column"],
        value=first["value"],
    )


def _reason_counts(rejected: pl.DataFrame) -> dict[str, int]:
    counts = rejected.get_column("reason").value_counts(sort=True)
    return {str(reason): int(count) for reason, count in counts.iter_rows()}


def _format_reasons(counts: dict[str, int]) -> str:
    return ", ".join(f"{reason} {count:,}" for reason, count in counts.items())


def read_file(
    path: PathLike, *, format: str | None, timezone: str, strict: bool
) -> tuple[pl.DataFrame, pl.DataFrame, FileReport]:
    """Read one whole file; return its flows, rejected rows and report."""
    name = str(path)
    flow_parts, rejected_parts = [], []
    rows_read = 0
    format_name, compression = "", "none"
    for reader, chunk_compression, chunk in iter_chunks(
        path,
        format=format,
        timezone=timezone,
        chunk_bytes=_CHUNK_BYTES,
        prefetch=True,
        workers=_PARSE_WORKERS,
    ):
        if strict and chunk.rejected.height:
            raise strict_error(chunk.rejected)
        flow_parts.append(chunk.flows)
        rejected_parts.append(chunk.rejected)
        rows_read += chunk.rows_read
        format_name, compression = reader.name, chunk_compression

    flows = (
        pl.concat(flow_parts, rechunk=False) if len(flow_parts) > 1 else flow_parts[0]
    )
    rejected = (
        pl.concat(rejected_parts) if len(rejected_parts) > 1 else rejected_parts[0]
    )
    report = FileReport(
        path=name,
        format=format_name,
        compression=compression,
        rows_read=rows_read,
        rows_accepted=flows.height,
        rows_rejected=rejected.height,
        rejected_by_reason=_reason_counts(rejected),
        summary=FlowSummary.of(flows),
    )
    # Every data line is either accepted or rejected, never lost.
    assert report.rows_read == report.rows_accepted + report.rows_rejected
    if report.rows_rejected:
        logger.warning(
            "%s: rejected %s of %s rows (%s)",
            name,
            f"{report.rows_rejected:,}",
            f"{report.rows_read:,}",
            _format_reasons(report.rejected_by_reason),
        )
    else:
        logger.info(
            "%s: read %s flows (%s, %s)",
            name,
            f"{report.rows_read:,}",
            format_name,
            compression,
        )
    return flows, rejected, report


def _as_paths(paths: PathLike | Sequence[PathLike]) -> list[PathLike]:
    if isinstance(paths, (str, os.PathLike)):
        return [paths]
    path_list = list(paths)
    if not path_list:
        raise ConfigError("no input files given", field="paths")
    return path_list


def sort_by_start(flows: pl.DataFrame) -> pl.DataFrame:
    """Sort flows by start time, keeping file order for equal times."""
    # Most files come sorted already; checking is much cheaper than sorting.
    if flows.height < 2 or flows.get_column("start_time").is_sorted():
        return flows
    return flows.sort("start_time", maintain_order=True)


def read_flows(
    paths: PathLike | Sequence[PathLike],
    *,
    format: str | None = None,
    timezone: str = "UTC",
    strict: bool = False,
    max_rejected: float = 0.01,
    rejects_path: PathLike | None = None,
) -> ReadResult:
    """Read flow files of any supported format into one flow table.

    Parameters
    ----------
    paths
        One path or a sequence of paths. Each file may be plain, gzip, bz2 or
        xz compressed (detected from its first bytes).
    format
        ``binetflow``, ``zeek``, ``zeek-json`` or ``nfdump``; None detects the
        format of each file from its first line.
    timezone
        IANA zone of naive timestamps (binetflow, nfdump). Zeek epoch times
        are UTC whatever its value.
    strict
        Raise at the first bad row instead of skipping it.
    max_rejected
        Largest share of rejected rows allowed in any one file, in [0, 1].
    rejects_path
        Where to write every rejected row as JSON lines (written even when
        TooManyRejectedError follows).

    Returns
    -------
    ReadResult
        ``flows`` with exactly ``FLOW_SCHEMA``, all files concatenated and
        sorted by ``start_time`` (stable, so equal times keep file order);
        ``report`` with the counts; ``rejected`` with one row per rejected line.

    Raises
    ------
    FlowFormatError
        For a missing file, a directory, an empty, unknown, truncated or
        corrupt file, missing header columns, or (``strict``) a bad row.
    TooManyRejectedError
        When a file has more than ``max_rejected`` of its rows rejected.
    ConfigError
        For an unknown format or time zone, or ``max_rejected`` outside [0, 1].
    """
    check_options(format, timezone)
    if not 0.0 <= max_rejected <= 1.0:
        raise ConfigError(
            f"max_rejected must be a fraction in [0, 1], got {max_rejected!r}",
            field="max_rejected",
        )
    per_file: list[FileReport] = []
    flow_parts: list[pl.DataFrame] = []
    rejected_parts: list[pl.DataFrame] = []
    for path in _as_paths(paths):
        flows, rejected, report = read_file(
            Path(path) if not isinstance(path, str) else path,
            format=format,
            timezone=timezone,
            strict=strict,
        )
        flow_parts.append(flows)
        rejected_parts.append(rejected)
        per_file.append(report)
    flows = pl.concat(flow_parts) if len(flow_parts) > 1 else flow_parts[0]
    flows = sort_by_start(flows)
    rejected = pl.concat(rejected_parts)
    report = ReadReport.combine(per_file, flows)
    if rejects_path is not None:
        write_rejects(rejects_path, rejected)
    for file_report in per_file:
        if file_report.rejected_fraction > max_rejected:
            raise TooManyRejectedError(
                f"{file_report.path}: {file_report.rows_rejected:,} of "
                f"{file_report.rows_read:,} rows rejected "
                f"({file_report.rejected_fraction:.2%}), more than the "
                f"{max_rejected:.2%} that max_rejected (--max-rejected) allows: "
                f"{_format_reasons(file_report.rejected_by_reason)}. Check that "
                "the format is right, or pass --rejects FILE to see every "
                "rejected row",
                report=report,
                path=file_report.path,
            )
    assert list(flows.schema.items()) == list(FLOW_SCHEMA.items())
    return ReadResult(flows, report, rejected)
