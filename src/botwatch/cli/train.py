"""``botwatch train``: learn normal traffic and write a model directory."""

from __future__ import annotations

import logging
from pathlib import Path

import click

from botwatch.cli.common import input_options, read_input, tqdm_progress
from botwatch.detector import RVAEDetector
from botwatch.model.config import TRAIN_ON_CHOICES, RVAEConfig
from botwatch.sequences import parse_home_net

logger = logging.getLogger(__name__)

_DEFAULTS = RVAEConfig()


@click.command()
@click.argument(
    "files", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path)
)
@click.option(
    "-o",
    "--output",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Model directory to write (replaced atomically if it exists).",
)
@input_options
@click.option(
    "--train-on",
    type=click.Choice(TRAIN_ON_CHOICES),
    default=None,
    help="Training flows: benign (label class normal), non-botnet, or all (labels "
    "ignored). Default: non-botnet with labels, all without.",
)
@click.option(
    "--home-net",
    default=None,
    metavar="CIDR[,CIDR...]",
    help="Monitored networks; only their hosts are profiled and alerted on. "
    "Default: every source host.",
)
@click.option(
    "--seq-len",
    type=click.IntRange(1, 4096),
    default=_DEFAULTS.seq_len,
    show_default=True,
    help="Flows per sequence.",
)
@click.option(
    "--stride",
    type=click.IntRange(1, 4096),
    default=None,
    help="Flows between sequence starts. Default: half of --seq-len.",
)
@click.option(
    "--epochs",
    type=click.IntRange(1, 10_000),
    default=_DEFAULTS.epochs,
    show_default=True,
    help="Most training epochs (early stopping may end sooner).",
)
@click.option(
    "--hidden-size",
    type=click.IntRange(1, 4096),
    default=_DEFAULTS.hidden_size,
    show_default=True,
    help="Units of the encoder and decoder GRUs.",
)
@click.option(
    "--latent-dim",
    type=click.IntRange(1, 1024),
    default=_DEFAULTS.latent_dim,
    show_default=True,
    help="Size of the latent Gaussian.",
)
@click.option(
    "--seed",
    type=click.IntRange(0),
    default=_DEFAULTS.seed,
    show_default=True,
    help="Seed for weights, batches and latent samples.",
)
@click.option(
    "--fpr",
    "target_fpr",
    type=click.FloatRange(0.0, 0.5, min_open=True),
    default=_DEFAULTS.target_fpr,
    show_default=True,
    help="Target false-positive rate of host-window alerts.",
)
@click.option(
    "--window",
    "window_seconds",
    type=click.FloatRange(0.0, min_open=True),
    default=_DEFAULTS.window_seconds,
    show_default=True,
    help="Time window of host alerts, in seconds.",
)
@click.option(
    "--progress/--no-progress", default=True, help="Draw progress bars on stderr."
)
def train(
    files: tuple[Path, ...],
    output: Path,
    input_format: str | None,
    timezone: str,
    max_rejected: float,
    strict: bool,
    rejects: Path | None,
    slice_text: str | None,
    train_on: str | None,
    home_net: str | None,
    seq_len: int,
    stride: int | None,
    epochs: int,
    hidden_size: int,
    latent_dim: int,
    seed: int,
    target_fpr: float,
    window_seconds: float,
    progress: bool,
) -> None:
    """Train a detector on FILES and write it to the model directory -o."""
    networks = parse_home_net(home_net)
    config = RVAEConfig(
        seq_len=seq_len,
        stride=stride if stride is not None else max(1, seq_len // 2),
        epochs=epochs,
        hidden_size=hidden_size,
        latent_dim=latent_dim,
        seed=seed,
        train_on=train_on,
        target_fpr=target_fpr,
        window_seconds=window_seconds,
        home_net=tuple(networks) if networks else None,
    )
    flows, inputs = read_input(
        files,
        input_format=input_format,
        timezone=timezone,
        max_rejected=max_rejected,
        strict=strict,
        rejects=rejects,
        slice_text=slice_text,
    )
    detector = RVAEDetector(config).fit(
        flows, inputs=inputs, progress=tqdm_progress(progress)
    )
    detector.save(output)
    summary = detector.training_summary_
    click.echo(
        f"model {detector.model_id_} written to {output}: trained on "
        f"{summary['training_flows']} flows ({summary['train_on']}) of "
        f"{summary['hosts']} hosts, threshold {detector.threshold_:.4f} for target "
        f"FPR {config.target_fpr:g}",
        err=True,
    )
