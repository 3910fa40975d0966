"""Anomaly scores of sequences, flows and hosts in time windows.

All scores are in nats and higher means more anomalous.

- Sequence score: the mean over the sequence's real flows of each flow's
  negative log reconstruction probability (see ``RVAE.score``).
- Flow score: the mean of the scores of the sequences that contain the flow.
  A flow is judged by its context: a C&C beacon inside a run of unusual
  traffic scores high even when the beacon alone looks ordinary, and a single
  odd flow among ordinary ones is diluted by its neighbours.
- Host score in a time window: the mean of the host's flow scores in the window,
  shrunk towards the median flow score of benign held-out traffic by
  ``prior_weight`` pseudo-flows: ``(sum + k * prior) / (n + k)``. A host whose
  flows are all anomalous keeps nearly its mean; a host with one odd flow is
  pulled back towards normal. Persistent behaviour therefore outranks one-off
  outliers, which is what an analyst wants to see first.

Time windows are aligned to multiples of ``window_seconds`` since the Unix
epoch, so the same flow lands in the same window in batch and streaming use.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import polars as pl
import torch

from botwatch.features import EncodedFlows
from botwatch.model.rvae import RVAE
from botwatch.sequences import SequenceIndex
from botwatch.training import batch_tensors

__all__ = [
    "aggregate_host_windows",
    "window_start",
    "flow_scores_from_sequences",
    "score_sequences",
]

# Sequences scored per forward pass; on two cores 512 measured faster than
# both 256 and 1024 (bench/bench_model.py).
_SCORE_BATCH = 512


def score_sequences(
    model: RVAE,
    encoded: EncodedFlows,
    index: SequenceIndex,
    *,
    n_latent_samples: int,
    seed: int,
    progress: Callable[[int], None] | None = None,
) -> np.ndarray:
    """Return each sequence's score, shape [S].

    Latent samples come from a generator seeded with ``seed``, so the same
    model, flows and seed give the same scores.
    """
    generator = torch.Generator().manual_seed(seed)
    scores = np.zeros(index.n_sequences, dtype=np.float64)
    model.eval()
    for begin in range(0, index.n_sequences, _SCORE_BATCH):
        ids = np.arange(begin, min(begin + _SCORE_BATCH, index.n_sequences))
        numeric, codes, lengths, mask = batch_tensors(encoded, index, ids)
        per_flow = model.score(numeric, codes, lengths, n_latent_samples, generator)
        per_flow = (per_flow * mask).sum(1) / mask.sum(1)  # [B]
        scores[ids] = per_flow.double().numpy()
        if progress is not None:
            progress(len(ids))
    return scores


def flow_scores_from_sequences(
    sequence_scores: np.ndarray, index: SequenceIndex, n_rows: int
) -> np.ndarray:
    """Return each flow's score [n_rows]: the mean over sequences containing it.

    Rows in no sequence (no monitored host) get NaN.
    """
    total = np.zeros(n_rows, dtype=np.float64)
    count = np.zeros(n_rows, dtype=np.float64)
    for offset in range(index.seq_len):
        real = index.lengths > offset
        rows = index.order[index.starts[real] + offset]
        np.add.at(total, rows, sequence_scores[real])
        np.add.at(count, rows, 1.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(count > 0, total / count, np.nan)


def window_start(window_seconds: float) -> pl.Expr:
    """Return the start of each flow's time window, aligned to the Unix epoch."""
    window_us = int(round(window_seconds * 1e6))
    return pl.col("start_time").dt.truncate(f"{window_us}us")


def aggregate_host_windows(
    scored: pl.DataFrame,
    *,
    window_seconds: float,
    prior_score: float,
    prior_weight: float,
) -> pl.DataFrame:
    """Aggregate flow scores to one score per host and time window.

    ``scored`` needs ``host``, ``start_time`` and ``flow_score``; rows with a
    null host or score are left out. Returns ``host``, ``window_start``,
    ``window_end``, ``flows`` and ``host_score``, sorted by window then host.
    """
    window_us = int(round(window_seconds * 1e6))
    data = scored.filter(
        pl.col("host").is_not_null() & pl.col("flow_score").is_not_null()
    ).with_columns(window_start=window_start(window_seconds))
    grouped = data.group_by("host", "window_start").agg(
        flows=pl.len(),
        _sum=pl.col("flow_score").sum(),
    )
    return (
        grouped.with_columns(
            window_end=pl.col("window_start") + pl.duration(microseconds=window_us),
            host_score=(pl.col("_sum") + prior_weight * prior_score)
            / (pl.col("flows") + prior_weight),
        )
        .select("host", "window_start", "window_end", "flows", "host_score")
        .sort("window_start", "host")
    )
