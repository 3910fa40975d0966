"""``botwatch evaluate``: metrics and an HTML report of a model on labeled flows."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click
import polars as pl

from botwatch._atomic import atomic_dir
from botwatch.cli.common import input_options, read_input
from botwatch.detector import load_model
from botwatch.evaluation.report import write_report
from botwatch.evaluation.run import evaluate_model, recorded_training_inputs

logger = logging.getLogger(__name__)

EPILOG = """\b
Examples:
  botwatch evaluate capture.binetflow.gz -m model/ -o report/ --slice 0.5:1
  botwatch evaluate capture.binetflow.gz -m model/ -o report/ --slice 0.5:1 \\
      --baselines --train capture.binetflow.gz --train-slice 0:0.5
"""


def _time_range(flows: pl.DataFrame) -> dict[str, str | None]:
    times = flows.get_column("start_time")
    if times.len() == 0:
        return {"start": None, "end": None}
    return {"start": times.min().isoformat(), "end": times.max().isoformat()}


def _baseline_inputs(
    model: Any, train_files: tuple[Path, ...], train_slice: str | None
) -> tuple[tuple[Path, ...], str | None]:
    """Return the baselines' training files and slice: given, or the model's."""
    if train_files:
        return train_files, train_slice
    recorded_files, recorded_slice = recorded_training_inputs(model)
    if not recorded_files:
        msg = (
            "--baselines needs training flows and the model records no training "
            "files; pass them with --train FILE"
        )
        raise click.UsageError(msg)
    missing = [f for f in recorded_files if not Path(f).is_file()]
    if missing:
        msg = (
            f"the model's training files {missing} were not found; pass the "
            "baselines' training flows with --train FILE"
        )
        raise click.UsageError(msg)
    slice_text = train_slice if train_slice is not None else recorded_slice
    return tuple(Path(f) for f in recorded_files), slice_text


@click.command(epilog=EPILOG)
@click.argument(
    "files", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path)
)
@click.option(
    "-m",
    "--model",
    "model_dir",
    required=True,
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    help="Model directory written by botwatch train.",
)
@click.option(
    "-o",
    "--output",
    "report_dir",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Report directory to write; an existing one is replaced as a whole.",
)
@input_options
@click.option(
    "--window",
    "window_seconds",
    type=click.FloatRange(0.0, min_open=True),
    default=None,
    help="Width of the host windows in seconds. Default: the model's window.",
)
@click.option(
    "--baselines",
    is_flag=True,
    help="Also train and evaluate the baselines: Isolation Forest, single-flow "
    "VAE, GRU autoencoder and a supervised random forest.",
)
@click.option(
    "--train",
    "train_files",
    multiple=True,
    type=click.Path(exists=True, path_type=Path),
    help="Training flows of the baselines; repeat for several files. "
    "Default: the model's recorded training files.",
)
@click.option(
    "--train-slice",
    default=None,
    metavar="A:B",
    help="Fraction of the --train files' time span to train the baselines on. "
    "Default: the model's recorded training slice.",
)
def evaluate(
    files: tuple[Path, ...],
    model_dir: Path,
    report_dir: Path,
    input_format: str | None,
    timezone: str,
    max_rejected: float,
    strict: bool,
    rejects: Path | None,
    slice_text: str | None,
    window_seconds: float | None,
    baselines: bool,
    train_files: tuple[Path, ...],
    train_slice: str | None,
) -> None:
    """Score labeled flow FILES with a model and write metrics and a report.

    Writes metrics.json, a self-contained report.html and the PNG figures it
    shows into the directory -o.
    """
    if not baselines and (train_files or train_slice):
        msg = "--train and --train-slice only apply together with --baselines"
        raise click.UsageError(msg)
    model = load_model(model_dir)
    window = window_seconds or model.config.window_seconds
    read_options = {
        "input_format": input_format,
        "timezone": timezone,
        "max_rejected": max_rejected,
        "strict": strict,
        "rejects": rejects,
    }
    flows, inputs = read_input(files, slice_text=slice_text, **read_options)
    run: dict[str, Any] = {
        "files": [str(f) for f in files],
        "inputs": inputs,
        "slice": slice_text,
        "flows": flows.height,
        "time_range": _time_range(flows),
        "model": str(model_dir),
        "model_id": model.model_id_,
        "window_seconds": window,
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "config": model.config.to_dict(),
        "training_summary": getattr(model, "training_summary_", {}),
    }

    train_flows = None
    train_inputs = None
    if baselines:
        baseline_files, baseline_slice = _baseline_inputs(
            model, train_files, train_slice
        )
        # --rejects records the rejected rows of FILES only, so this second
        # read must not overwrite it.
        train_flows, train_inputs = read_input(
            baseline_files,
            slice_text=baseline_slice,
            **{**read_options, "rejects": None},
        )
        run["baseline_training"] = {
            "files": [str(f) for f in baseline_files],
            "slice": baseline_slice,
            "flows": train_flows.height,
            "time_range": _time_range(train_flows),
        }

    data = evaluate_model(
        model,
        flows,
        window_seconds=window,
        run=run,
        train_flows=train_flows,
        train_inputs=train_inputs,
    )
    with atomic_dir(report_dir) as tmp:
        write_report(tmp, data)
    flow = data.metrics["flow"]
    click.echo(
        f"report written to {report_dir}: flow ROC-AUC {flow['roc_auc']}, "
        f"TPR {flow['tpr']} at FPR {flow['fpr']}, "
        f"host-window F1 {data.metrics['host_window']['f1']}",
        err=True,
    )
