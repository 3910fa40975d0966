"""The ``botwatch inspect`` command: what flow files contain and what was rejected."""

from __future__ import annotations

import json
from pathlib import Path

import click

from botwatch.errors import TooManyRejectedError
from botwatch.io import FORMATS, read_flows
from botwatch.io.report import FlowSummary, ReadReport


def _counts(counts: dict[str, int]) -> str:
    return ", ".join(f"{name} {count:,}" for name, count in counts.items()) or "none"


def _summary_lines(
    rows_read: int,
    rows_accepted: int,
    rows_rejected: int,
    rejected_by_reason: dict[str, int],
    summary: FlowSummary,
) -> list[str]:
    start = summary.to_dict()["start"] or "-"
    end = summary.to_dict()["end"] or "-"
    return [
        f"  rows read      {rows_read:,}",
        f"  accepted       {rows_accepted:,}",
        f"  rejected       {rows_rejected:,}"
        + (f" ({_counts(rejected_by_reason)})" if rows_rejected else ""),
        f"  label classes  {_counts(summary.label_classes)}",
        f"  source hosts   {summary.hosts:,}",
        f"  time range     {start} to {end}",
        f"  protocols      {_counts(summary.protocols)}",
    ]


def format_report(report: ReadReport) -> str:
    """Return the human-readable report: each file, then the total."""
    lines: list[str] = []
    for file_report in report.per_file:
        lines.append(
            f"{file_report.path} ({file_report.format}, {file_report.compression})"
        )
        lines += _summary_lines(
            file_report.rows_read,
            file_report.rows_accepted,
            file_report.rows_rejected,
            file_report.rejected_by_reason,
            file_report.summary,
        )
    lines.append(f"total ({len(report.per_file)} files)")
    lines += _summary_lines(
        report.rows_read,
        report.rows_accepted,
        report.rows_rejected,
        report.rejected_by_reason,
        report.summary,
    )
    return "\n".join(lines)


def _print(report: ReadReport, as_json: bool) -> None:
    if as_json:
        click.echo(json.dumps(report.to_dict()))
    else:
        click.echo(format_report(report))


@click.command()
@click.argument(
    "files",
    nargs=-1,
    required=True,
    type=click.Path(path_type=Path),
)
@click.option(
    "--format",
    "format_name",
    type=click.Choice(FORMATS),
    default=None,
    help="Input format; detected from each file's first line when left out.",
)
@click.option(
    "--timezone",
    default="UTC",
    show_default=True,
    help="IANA time zone of naive timestamps (binetflow, nfdump).",
)
@click.option(
    "--strict",
    is_flag=True,
    help="Stop with an error at the first bad row instead of skipping it.",
)
@click.option(
    "--max-rejected",
    type=click.FloatRange(0.0, 1.0),
    default=0.01,
    show_default=True,
    help="Largest share of rejected rows allowed per file (0 to 1); "
    "above it the command exits with code 3.",
)
@click.option(
    "--rejects",
    "rejects_path",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Write every rejected row, with its reason, to this JSON-lines file.",
)
@click.option(
    "--json", "as_json", is_flag=True, help="Print one JSON object on stdout."
)
@click.pass_context
def inspect(
    ctx: click.Context,
    files: tuple[Path, ...],
    format_name: str | None,
    timezone: str,
    strict: bool,
    max_rejected: float,
    rejects_path: Path | None,
    as_json: bool,
) -> None:
    """Count the flows in FILES: rows read, accepted and rejected, labels, hosts.

    Prints per file and in total the rejected rows by reason, label-class
    counts, distinct source hosts, time range and protocol counts. Exits with
    code 3 when a file has more rejected rows than --max-rejected allows,
    after printing the report.
    """
    # Imported here because app.py imports this module while it registers
    # commands.
    from botwatch.cli.app import EXIT_TOO_MANY_REJECTED

    try:
        result = read_flows(
            list(files),
            format=format_name,
            timezone=timezone,
            strict=strict,
            max_rejected=max_rejected,
            rejects_path=rejects_path,
        )
    except TooManyRejectedError as err:
        _print(err.report, as_json)
        click.echo(f"botwatch: error: {err}", err=True)
        ctx.exit(EXIT_TOO_MANY_REJECTED)
    _print(result.report, as_json)
