"""``botwatch demo``: train on half of CTU-13 scenario 6, detect on the other half."""

from __future__ import annotations

import logging
import time
from pathlib import Path

import click
import polars as pl

from botwatch._atomic import atomic_open
from botwatch.alerts import alert_records, write_alerts
from botwatch.cli.common import sha256_file, tqdm_progress
from botwatch.detector import RVAEDetector
from botwatch.errors import ConfigError
from botwatch.evaluation.metrics import host_classes
from botwatch.io import read_flows, time_slice
from botwatch.model.config import RVAEConfig
from botwatch.scoring import window_start

logger = logging.getLogger(__name__)

SCENARIO_FILE = "ctu13/scenario06_menti_capture20110816.binetflow.gz"
# The CTU university network, where CTU-13's infected and normal hosts live.
CTU_HOME_NET = ("147.32.0.0/16",)


def _default_data() -> Path | None:
    """Find scenario 6 in a ``shared/data`` folder beside the working directory
    or beside the source checkout."""
    here = Path(__file__).resolve()
    candidates = [Path.cwd().parent / "shared" / "data" / SCENARIO_FILE]
    candidates += [
        parent.parent / "shared" / "data" / SCENARIO_FILE for parent in here.parents
    ]
    for candidate in candidates:
        if candidate.is_file():
            return candidate
    return None


@click.command()
@click.option(
    "--data",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=None,
    help="Scenario 6 binetflow file. Default: looked up in "
    f"../shared/data/{SCENARIO_FILE}.",
)
@click.option(
    "--workdir",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("runs/demo"),
    show_default=True,
    help="Where the model and the alerts are written.",
)
@click.option(
    "--epochs",
    type=click.IntRange(1, 10_000),
    default=RVAEConfig().epochs,
    show_default=True,
    help="Most training epochs.",
)
@click.option(
    "--seed",
    type=click.IntRange(0),
    default=0,
    show_default=True,
    help="Seed for weights, batches and latent samples.",
)
@click.option(
    "--fpr",
    "target_fpr",
    type=click.FloatRange(0.0, 0.5, min_open=True),
    default=0.01,
    show_default=True,
    help="Target false-positive rate.",
)
@click.option(
    "--progress/--no-progress", default=True, help="Draw progress bars on stderr."
)
def demo(
    data: Path | None,
    workdir: Path,
    epochs: int,
    seed: int,
    target_fpr: float,
    progress: bool,
) -> None:
    """Train on the first half of CTU-13 scenario 6 and detect on the second half.

    Prints the hosts that alerted with each host's label class, then a summary.
    """
    path = data or _default_data()
    if path is None:
        msg = (
            f"CTU-13 scenario 6 not found at ../shared/data/{SCENARIO_FILE}; "
            "pass its path with --data"
        )
        raise ConfigError(msg, field="data")
    started = time.perf_counter()
    flows = read_flows(path).flows
    train_flows = time_slice(flows, 0.0, 0.5)
    test_flows = time_slice(flows, 0.5, 1.0)
    click.echo(
        f"read {flows.height} flows from {path}: training on the first half "
        f"({train_flows.height} flows), detecting on the second ({test_flows.height})",
        err=True,
    )
    config = RVAEConfig(
        epochs=epochs, seed=seed, target_fpr=target_fpr, home_net=CTU_HOME_NET
    )
    bars = tqdm_progress(progress)
    detector = RVAEDetector(config).fit(
        train_flows,
        inputs=[
            {
                "path": str(path),
                "sha256": sha256_file(path),
                "rows": flows.height,
                "slice": "0:0.5",
            }
        ],
        progress=bars,
    )
    detector.save(workdir / "model")
    scored = detector.score_flows(test_flows, progress=bars)
    alerts = detector.predict(scored)
    with atomic_open(workdir / "alerts.jsonl", "w", encoding="utf-8") as handle:
        write_alerts(alert_records(alerts, scored, model_id=detector.model_id_), handle)

    classes = host_classes(scored).rename({"host_class": "label_class"})
    windows = (
        scored.filter(pl.col("host").is_not_null())
        .select("host", window_start=window_start(config.window_seconds))
        .unique()
        .join(classes, on="host")
        .join(
            alerts.select("host", "window_start", alerted=pl.lit(True)),
            on=["host", "window_start"],
            how="left",
        )
        .with_columns(pl.col("alerted").fill_null(False))
    )
    per_host = (
        alerts.group_by("host")
        .agg(windows=pl.len(), max_score=pl.col("host_score").max())
        .join(classes, on="host", how="left")
        .sort(["max_score"], descending=True)
    )
    click.echo(f"\nhosts that alerted ({per_host.height}), highest score first:")
    click.echo(f"{'host':<40} {'class':<11} {'windows':>7} {'max score':>10}")
    for row in per_host.iter_rows(named=True):
        click.echo(
            f"{row['host']:<40} {row['label_class']:<11} {row['windows']:>7} "
            f"{row['max_score']:>10.2f}"
        )
    click.echo("\nsummary:")
    for label_class in ("botnet", "normal", "background"):
        subset = windows.filter(pl.col("label_class") == label_class)
        hosts = subset.get_column("host").n_unique()
        alerted_hosts = subset.filter(pl.col("alerted")).get_column("host").n_unique()
        rate = subset.get_column("alerted").mean() if subset.height else float("nan")
        click.echo(
            f"  {label_class:<10} hosts alerted {alerted_hosts}/{hosts}, "
            f"host windows alerted {subset.get_column('alerted').sum()}/{subset.height}"
            f" ({rate:.2%})"
        )
    click.echo(
        f"  target false-positive rate {target_fpr:.2%}; threshold "
        f"{detector.threshold_:.3f}; model {detector.model_id_} in "
        f"{workdir / 'model'}; alerts in {workdir / 'alerts.jsonl'}; "
        f"{time.perf_counter() - started:.0f} s"
    )
