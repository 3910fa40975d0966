"""Reading a file in record batches of bounded size: :func:`iter_flow_batches`."""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator

import polars as pl

from botwatch.errors import ConfigError
from botwatch.io.stream import check_options, iter_chunks

__all__ = ["iter_flow_batches"]

logger = logging.getLogger(__name__)


def iter_flow_batches(
    path: str | os.PathLike[str],
    *,
    format: str | None = None,
    batch_rows: int = 100_000,
    timezone: str = "UTC",
) -> Iterator[pl.DataFrame]:
    """Yield the flows of one file as tables of at most ``batch_rows`` flows.

    The file is decompressed and parsed ``batch_rows`` lines at a time, so
    memory stays bounded by the batch size whatever the file size. Batches
    come in file order and are not sorted by time. Bad rows are skipped and
    counted, and a summary by reason is logged at the end; use
    :func:`~botwatch.io.read_flows` for strict reading and a full report.

    Raises
    ------
    FlowFormatError
        For the same file problems as :func:`~botwatch.io.read_flows`.
    ConfigError
        For an unknown format or time zone, or ``batch_rows`` below 1.
    """
    check_options(format, timezone)
    if batch_rows < 1:
        raise ConfigError(
            f"batch_rows must be at least 1, got {batch_rows}", field="batch_rows"
        )
    rows_read = 0
    reasons: dict[str, int] = {}
    for _, _, chunk in iter_chunks(
        path, format=format, timezone=timezone, chunk_lines=batch_rows
    ):
        rows_read += chunk.rows_read
        for reason in chunk.rejected.get_column("reason").to_list():
            reasons[reason] = reasons.get(reason, 0) + 1
        if chunk.flows.height:
            yield chunk.flows
    rejected = sum(reasons.values())
    if rejected:
        summary = ", ".join(f"{reason} {count:,}" for reason, count in reasons.items())
        logger.warning(
            "%s: rejected %s of %s rows (%s)",
            path,
            f"{rejected:,}",
            f"{rows_read:,}",
            summary,
        )
