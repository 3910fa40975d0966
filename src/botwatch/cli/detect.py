"""``botwatch detect``: score flows with a model and write alerts."""

from __future__ import annotations

import logging
import sys
from pathlib import Path

import click

from botwatch._atomic import atomic_open
from botwatch.alerts import alert_records, write_alerts
from botwatch.cli.common import input_options, read_input, tqdm_progress
from botwatch.detector import load_model
from botwatch.errors import ConfigError
from botwatch.sequences import parse_home_net

logger = logging.getLogger(__name__)


@click.command()
@click.argument(
    "files", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path)
)
@click.option(
    "-m",
    "--model",
    "model_dir",
    required=True,
    type=click.Path(path_type=Path),
    help="Model directory written by botwatch train.",
)
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Write alerts (JSON lines) to this file instead of stdout.",
)
@click.option(
    "--scores",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Also write every flow's score with its file and line (.parquet or .csv).",
)
@input_options
@click.option(
    "--threshold",
    type=float,
    default=None,
    help="Alert threshold in nats, overriding the model's calibrated one.",
)
@click.option(
    "--home-net",
    default=None,
    metavar="CIDR[,CIDR...]",
    help="Monitored networks, overriding the model's.",
)
@click.option(
    "--window",
    "window_seconds",
    type=click.FloatRange(0.0, min_open=True),
    default=None,
    help="Alert time window in seconds. Default: the model's.",
)
@click.option(
    "--progress/--no-progress", default=True, help="Draw progress bars on stderr."
)
def detect(
    files: tuple[Path, ...],
    model_dir: Path,
    output: Path | None,
    scores: Path | None,
    input_format: str | None,
    timezone: str,
    max_rejected: float,
    strict: bool,
    rejects: Path | None,
    slice_text: str | None,
    threshold: float | None,
    home_net: str | None,
    window_seconds: float | None,
    progress: bool,
) -> None:
    """Score FILES with the model -m and write one alert per host and window."""
    if scores is not None and scores.suffix.lower() not in (".parquet", ".csv"):
        msg = f"--scores {scores}: the file name must end in .parquet or .csv"
        raise ConfigError(msg, field="scores")
    for path in (output, scores):
        if path is not None and any(path.resolve() == f.resolve() for f in files):
            msg = f"{path} is also an input file; choose another output name"
            raise ConfigError(msg)
    detector = load_model(model_dir)
    flows, _ = read_input(
        files,
        input_format=input_format,
        timezone=timezone,
        max_rejected=max_rejected,
        strict=strict,
        rejects=rejects,
        slice_text=slice_text,
    )
    networks = parse_home_net(home_net) if home_net else "model"
    scored = detector.score_flows(
        flows, home_net=networks, progress=tqdm_progress(progress)
    )
    alerts = detector.predict(
        scored, threshold=threshold, window_seconds=window_seconds
    )
    records = alert_records(alerts, scored, model_id=detector.model_id_)
    if output is None:
        count = write_alerts(records, sys.stdout)
    else:
        with atomic_open(output, "w", encoding="utf-8") as handle:
            count = write_alerts(records, handle)
    if scores is not None:
        table = scored.select(
            "file",
            "line",
            "start_time",
            "src_addr",
            "dst_addr",
            "host",
            "raw_score",
            "flow_score",
        )
        with atomic_open(scores, "wb") as handle:
            if scores.suffix.lower() == ".parquet":
                table.write_parquet(handle)
            else:
                table.write_csv(handle)
    used = detector.threshold_ if threshold is None else threshold
    click.echo(
        f"{count} alerts on {alerts.get_column('host').n_unique()} hosts from "
        f"{scored.height} flows (threshold {used:.4f})",
        err=True,
    )
