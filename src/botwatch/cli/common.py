"""Options and steps that several commands share: reading input, progress bars."""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click
import polars as pl
from tqdm import tqdm

from botwatch.errors import ConfigError
from botwatch.io import parse_slice, read_flows, time_slice

__all__ = [
    "input_options",
    "read_input",
    "sha256_file",
    "tqdm_progress",
]

logger = logging.getLogger(__name__)

FORMATS = ("binetflow", "zeek", "zeek-json", "nfdump")


def input_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """Add the reading options (format, time zone, rejects, slice) to a command."""
    options = [
        click.option(
            "--format",
            "input_format",
            type=click.Choice(FORMATS),
            default=None,
            help="Input format; detected from the content when left out.",
        ),
        click.option(
            "--timezone",
            default="UTC",
            show_default=True,
            help="IANA time zone of input times that carry no zone.",
        ),
        click.option(
            "--max-rejected",
            type=click.FloatRange(0.0, 1.0),
            default=0.01,
            show_default=True,
            help="Largest share of input rows that may be rejected before failing.",
        ),
        click.option(
            "--strict", is_flag=True, help="Fail on the first row that cannot be read."
        ),
        click.option(
            "--rejects",
            type=click.Path(dir_okay=False, path_type=Path),
            default=None,
            help="Write rejected rows with their reasons to this file.",
        ),
        click.option(
            "--slice",
            "slice_text",
            default=None,
            metavar="A:B",
            help="Keep flows whose start lies in this fraction of the input's time "
            "span, such as 0:0.5 for the first half.",
        ),
    ]
    for option in reversed(options):
        command = option(command)
    return command


def sha256_file(path: Path) -> str:
    """Return the hex sha256 of a file's bytes."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def read_input(
    paths: tuple[Path, ...],
    *,
    input_format: str | None,
    timezone: str,
    max_rejected: float,
    strict: bool,
    rejects: Path | None,
    slice_text: str | None,
) -> tuple[pl.DataFrame, list[dict[str, Any]]]:
    """Read and slice the input files; return flows and a description per file."""
    if not paths:
        msg = "no input files given"
        raise ConfigError(msg)
    bounds = parse_slice(slice_text) if slice_text else None
    result = read_flows(
        list(paths),
        format=input_format,
        timezone=timezone,
        strict=strict,
        max_rejected=max_rejected,
        rejects_path=rejects,
    )
    flows = result.flows
    report = result.report
    logger.info(
        "read %d rows: %d accepted, %d rejected",
        report.rows_read,
        report.rows_accepted,
        report.rows_rejected,
    )
    if bounds is not None:
        flows = time_slice(flows, *bounds)
        logger.info("slice %s keeps %d flows", slice_text, flows.height)
    inputs = [
        {
            "path": str(path),
            "sha256": sha256_file(path),
            "rows": per_file.rows_accepted,
            "slice": slice_text,
        }
        for path, per_file in zip(paths, report.per_file, strict=True)
    ]
    return flows, inputs


def tqdm_progress(enabled: bool) -> Callable[[str, int], Callable[[int], None]] | None:
    """Return a progress factory that draws tqdm bars on stderr, or None."""
    if not enabled:
        return None
    bars: list[tqdm] = []

    def factory(stage: str, total: int) -> Callable[[int], None]:
        for bar in bars:
            bar.close()
        bar = tqdm(total=total, desc=stage, unit="seq", leave=False, dynamic_ncols=True)
        bars.append(bar)
        return bar.update

    return factory
