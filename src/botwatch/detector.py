"""Detectors in the style of scikit-learn and PyOD: fit, score, predict.

``BaseFlowDetector`` owns everything around a flow scorer: choosing the training
flows, the held-out time split, the host-window aggregate and the threshold
calibration. A subclass implements ``_fit_scorer`` and ``_score_flows_raw``.
``RVAEDetector`` is the recurrent VAE; other scorers (the baselines of the
evaluation) reuse the same rules so that their numbers compare.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable, Sequence
from datetime import timedelta
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl
import torch

from botwatch.errors import ConfigError, NotFittedError
from botwatch.features import NUMERIC, FeatureEncoder
from botwatch.model.config import RVAEConfig
from botwatch.model.rvae import RVAE
from botwatch.scoring import (
    aggregate_host_windows,
    flow_scores_from_sequences,
    score_sequences,
    window_start,
)
from botwatch.sequences import assign_hosts, build_sequences
from botwatch.threshold import ThresholdFit, calibrate_threshold
from botwatch.training import TrainingHistory, train_model

__all__ = [
    "BaseFlowDetector",
    "RVAEDetector",
    "load_model",
    "resolve_train_on",
    "select_training_flows",
]

logger = logging.getLogger(__name__)

Progress = Callable[[str, int], Callable[[int], None]]


def resolve_train_on(flows: pl.DataFrame, train_on: str | None) -> str:
    """Return the training-flow rule: the given one, or the default for ``flows``.

    The default is ``non-botnet`` when the flows carry labels and ``all`` when
    they do not.
    """
    if train_on is not None:
        return train_on
    has_labels = flows.height > 0 and flows.get_column("label_class").null_count() < (
        flows.height
    )
    return "non-botnet" if has_labels else "all"


def select_training_flows(flows: pl.DataFrame, train_on: str) -> pl.DataFrame:
    """Keep the flows a detector may learn from.

    ``benign`` keeps label class normal, ``non-botnet`` everything not labeled
    botnet (unlabeled flows included), ``all`` every flow. Botnet labels are
    never learned from.
    """
    label_class = pl.col("label_class")
    if train_on == "benign":
        selected = flows.filter(label_class == "normal")
    elif train_on == "non-botnet":
        selected = flows.filter((label_class != "botnet") | label_class.is_null())
    elif train_on == "all":
        selected = flows
    else:
        msg = f"train_on must be benign, non-botnet or all, got {train_on!r}"
        raise ConfigError(msg, field="train_on")
    if selected.height == 0:
        msg = (
            f"no training flows left with train_on={train_on!r} "
            f"(of {flows.height} flows); choose another --train-on"
        )
        raise ConfigError(msg, field="train_on")
    return selected


def _time_split(
    flows: pl.DataFrame, fraction: float
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Split flows at the time that leaves ``fraction`` of the span at the end."""
    start = flows.get_column("start_time").min()
    end = flows.get_column("start_time").max()
    split = start + timedelta(
        microseconds=(end - start) / timedelta(microseconds=1) * (1.0 - fraction)
    )
    before = flows.filter(pl.col("start_time") < split)
    after = flows.filter(pl.col("start_time") >= split)
    return before, after


class BaseFlowDetector:
    """Shared fit, score and predict logic around a per-flow scorer.

    Parameters
    ----------
    config
        All hyperparameters; keyword arguments override single fields.
    """

    def __init__(self, config: RVAEConfig | None = None, **params: Any) -> None:
        base = config if config is not None else RVAEConfig()
        self.config = base.replace(**params) if params else base

    # -- the two methods a subclass provides ---------------------------------

    def _fit_scorer(
        self,
        train_flows: pl.DataFrame,
        validation_flows: pl.DataFrame,
        progress: Progress | None,
    ) -> None:
        raise NotImplementedError

    def _score_flows_raw(
        self, flows: pl.DataFrame, progress: Progress | None = None
    ) -> np.ndarray:
        """Return one score per row of ``flows`` (with ``host``); NaN for no host."""
        raise NotImplementedError

    # -- public API -----------------------------------------------------------

    def fit(
        self,
        flows: pl.DataFrame,
        *,
        inputs: Sequence[dict[str, Any]] = (),
        progress: Progress | None = None,
    ) -> BaseFlowDetector:
        """Learn normal behaviour from ``flows`` and calibrate the threshold.

        ``inputs`` describes the files the flows came from (path, sha256,
        rows); it is stored in the training summary. Returns self.
        """
        config = self.config
        train_on = resolve_train_on(flows, config.train_on)
        selected = select_training_flows(flows, train_on)
        with_hosts = assign_hosts(selected, config.home_net).filter(
            pl.col("host").is_not_null()
        )
        if with_hosts.height == 0:
            msg = (
                f"none of the {selected.height} training flows has a source or "
                f"destination in the home network {list(config.home_net or [])}"
            )
            raise ConfigError(msg, field="home_net")
        fit_part, held_out = _time_split(with_hosts, config.validation_fraction)
        if fit_part.height == 0 or held_out.height == 0:
            msg = (
                f"the {with_hosts.height} training flows span too little time to hold "
                f"out the last {config.validation_fraction:.0%} for calibration"
            )
            raise ConfigError(msg, field="validation_fraction")
        logger.info(
            "training on %d flows (%s), holding out %d for validation and calibration",
            fit_part.height,
            train_on,
            held_out.height,
        )
        self._fit_scorer(fit_part, held_out, progress)
        self._fit_baselines(fit_part, held_out, progress)
        self._calibrate(held_out, progress)
        times = with_hosts.get_column("start_time")
        self.training_summary_ = {
            "inputs": [dict(item) for item in inputs],
            "rows": flows.height,
            "training_flows": fit_part.height,
            "calibration_flows": held_out.height,
            "hosts": with_hosts.get_column("host").n_unique(),
            "start": times.min().isoformat(),
            "end": times.max().isoformat(),
            "train_on": train_on,
        }
        return self

    def _fit_baselines(
        self,
        fit_part: pl.DataFrame,
        held_out: pl.DataFrame,
        progress: Progress | None,
    ) -> None:
        """Learn the prior score and each training host's own score level.

        The prior is the median raw score of held-out flows. A host's
        baseline is the sum and count of the raw scores of the flows it sent
        in training (``host_baselines_``); see ``host_offsets``.
        """
        held_scores = self._score_flows_raw(held_out, progress)
        finite = held_scores[np.isfinite(held_scores)]
        if finite.size == 0:
            msg = "no held-out flow received a score; train on a longer capture"
            raise ConfigError(msg, field="validation_fraction")
        self.prior_score_ = float(np.median(finite))
        self._held_out_scores = held_scores
        self.host_baselines_ = pl.DataFrame(
            schema={"host": pl.String, "score_sum": pl.Float64, "flows": pl.Int64}
        )
        if not self.config.host_baselines:
            return
        fit_scores = self._score_flows_raw(fit_part, progress)
        self.host_baselines_ = (
            fit_part.select("host", "src_addr")
            .with_columns(score=pl.Series(fit_scores).fill_nan(None))
            # Only flows the host sent count, because inbound traffic (scans,
            # replies) reflects other hosts and would raise this host's level.
            .filter(
                (pl.col("host") == pl.col("src_addr")) & pl.col("score").is_not_null()
            )
            .group_by("host")
            .agg(score_sum=pl.col("score").sum(), flows=pl.len().cast(pl.Int64))
            .sort("host")
        )

    def host_offsets(self) -> pl.DataFrame:
        """Return each training host's offset (``host``, ``offset``) in nats.

        A host's level is the mean raw score of the flows it sent in
        training, shrunk towards the prior score with ``baseline_weight``
        pseudo-flows; its offset is that level minus the prior. ``flow_score``
        subtracts the offset, so a host whose traffic was always unusual (a
        router answering pings, a server with odd protocols) is judged against
        its own past, while a host that changes its behaviour, or that sent
        nothing in training, is judged against the network's.
        """
        k = self.config.baseline_weight
        prior = self.prior_score_
        return self.host_baselines_.select(
            "host",
            offset=(pl.col("score_sum") + k * prior) / (pl.col("flows") + k) - prior,
        )

    def _with_scores(self, flows: pl.DataFrame, raw: np.ndarray) -> pl.DataFrame:
        """Add ``raw_score`` and the host-adjusted ``flow_score`` to ``flows``."""
        scored = flows.with_columns(
            raw_score=pl.Series("raw_score", raw, dtype=pl.Float64).fill_nan(None)
        )
        offsets = self.host_offsets()
        return (
            scored.join(offsets, on="host", how="left", maintain_order="left")
            .with_columns(
                flow_score=pl.col("raw_score") - pl.col("offset").fill_null(0.0)
            )
            .drop("offset")
        )

    def _calibrate(self, held_out: pl.DataFrame, progress: Progress | None) -> None:
        """Fit the threshold on held-out host windows at the target FPR."""
        windows = aggregate_host_windows(
            self._with_scores(held_out, self._held_out_scores),
            window_seconds=self.config.window_seconds,
            prior_score=self.prior_score_,
            prior_weight=self.config.prior_weight,
        )
        del self._held_out_scores
        self.threshold_fit_: ThresholdFit = calibrate_threshold(
            windows.get_column("host_score").to_numpy(), self.config.target_fpr
        )
        self.threshold_ = self.threshold_fit_.threshold
        logger.info(
            "threshold %.4f for target FPR %g (%s on %d held-out host windows)",
            self.threshold_,
            self.config.target_fpr,
            self.threshold_fit_.method,
            self.threshold_fit_.n_scores,
        )

    def _check_fitted(self) -> None:
        if not hasattr(self, "threshold_"):
            msg = (
                f"this {type(self).__name__} is not fitted yet: call fit(flows) or "
                "load a saved model first"
            )
            raise NotFittedError(msg)

    def score_flows(
        self,
        flows: pl.DataFrame,
        *,
        home_net: Sequence[str] | None | str = "model",
        progress: Progress | None = None,
    ) -> pl.DataFrame:
        """Return ``flows`` with ``host``, ``raw_score`` and ``flow_score`` added.

        ``raw_score`` is the scorer's own score; ``flow_score`` subtracts the
        host's offset (``host_offsets``) and is what thresholds and host
        aggregates use. Both are null for flows of no monitored host. ``home_net``
        overrides the model's home network (``"model"`` keeps it).
        """
        self._check_fitted()
        networks = self.config.home_net if home_net == "model" else home_net
        with_hosts = assign_hosts(flows, networks)
        scores = self._score_flows_raw(with_hosts, progress)
        return self._with_scores(with_hosts, scores)

    def score_hosts(
        self, scored: pl.DataFrame, *, window_seconds: float | None = None
    ) -> pl.DataFrame:
        """Return one score per host and time window from ``score_flows`` output."""
        self._check_fitted()
        return aggregate_host_windows(
            scored,
            window_seconds=window_seconds or self.config.window_seconds,
            prior_score=self.prior_score_,
            prior_weight=self.config.prior_weight,
        )

    def predict(
        self,
        scored: pl.DataFrame,
        *,
        threshold: float | None = None,
        window_seconds: float | None = None,
    ) -> pl.DataFrame:
        """Return the host windows whose score lies strictly above the threshold."""
        windows = self.score_hosts(scored, window_seconds=window_seconds)
        limit = self.threshold_ if threshold is None else threshold
        return windows.filter(pl.col("host_score") > limit).with_columns(
            threshold=pl.lit(limit, pl.Float64)
        )

    def flag_flows(
        self,
        scored: pl.DataFrame,
        *,
        threshold: float | None = None,
        window_seconds: float | None = None,
    ) -> pl.Series:
        """Return a boolean per flow: the flow is part of an alert.

        A flow is flagged when its host's window is above the threshold and
        the flow's own score is too, so the flagged flows are the ones that
        explain each alert. Flows of no monitored host are never flagged.
        """
        limit = self.threshold_ if threshold is None else threshold
        seconds = window_seconds or self.config.window_seconds
        alerts = self.predict(scored, threshold=limit, window_seconds=seconds)
        keyed = scored.select("host", "flow_score", window_start=window_start(seconds))
        alerted = keyed.join(
            alerts.select("host", "window_start", _alerted=pl.lit(True)),
            on=["host", "window_start"],
            how="left",
            maintain_order="left",
        )
        return (
            alerted.get_column("_alerted").fill_null(False)
            & (alerted.get_column("flow_score") > limit).fill_null(False)
        ).alias("flagged")

    def rank_hosts(self, scored: pl.DataFrame) -> pl.DataFrame:
        """Rank hosts over the whole input, most persistently anomalous first.

        Returns ``host``, ``windows`` (time windows with flows of the host),
        ``alerted_windows``, ``flows`` and ``host_score`` (the host aggregate
        over all its flows). Hosts are ordered by alerted windows, then by
        ``host_score``: a host that alerts in window after window, as a bot's
        beacons and spam runs do, comes before one with a single odd burst.
        """
        self._check_fitted()
        k = self.config.prior_weight
        windows = self.score_hosts(scored)
        per_window = windows.group_by("host").agg(
            windows=pl.len(),
            alerted_windows=(pl.col("host_score") > self.threshold_).sum(),
        )
        overall = (
            scored.filter(pl.col("flow_score").is_not_null())
            .group_by("host")
            .agg(flows=pl.len(), _sum=pl.col("flow_score").sum())
            .with_columns(
                host_score=(pl.col("_sum") + k * self.prior_score_)
                / (pl.col("flows") + k)
            )
            .drop("_sum")
        )
        return (
            per_window.join(overall, on="host")
            .select("host", "windows", "alerted_windows", "flows", "host_score")
            .sort(
                ["alerted_windows", "host_score", "host"],
                descending=[True, True, False],
            )
        )


class RVAEDetector(BaseFlowDetector):
    """Recurrent variational autoencoder over per-host flow sequences.

    Examples
    --------
    >>> from botwatch import RVAEDetector, read_flows  # doctest: +SKIP
    >>> flows = read_flows("capture.binetflow").flows  # doctest: +SKIP
    >>> detector = RVAEDetector(epochs=4, seed=1).fit(flows)  # doctest: +SKIP
    >>> alerts = detector.predict(detector.score_flows(flows))  # doctest: +SKIP
    """

    def _build_model(self, cardinalities: list[int]) -> RVAE:
        c = self.config
        return RVAE(
            n_numeric=len(NUMERIC),
            cardinalities=cardinalities,
            hidden_size=c.hidden_size,
            latent_dim=c.latent_dim,
            num_layers=c.num_layers,
            embedding_dim=c.embedding_dim,
            variational=c.variational,
        )

    def _fit_scorer(
        self,
        train_flows: pl.DataFrame,
        validation_flows: pl.DataFrame,
        progress: Progress | None,
    ) -> None:
        c = self.config
        self.encoder_ = FeatureEncoder().fit(train_flows)
        train_index = build_sequences(train_flows, seq_len=c.seq_len, stride=c.stride)
        validation_index = build_sequences(
            validation_flows, seq_len=c.seq_len, stride=c.stride
        )
        # Weights are initialised from the global generator; forking it keeps
        # the caller's random state untouched while the seed fixes the weights.
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(c.seed)
            self.model_ = self._build_model(self.encoder_.cardinalities)
        per_epoch = train_index.n_sequences
        if c.max_train_sequences:
            per_epoch = min(per_epoch, c.max_train_sequences)
        tick = progress("training", per_epoch * c.epochs) if progress else None
        self.history_: TrainingHistory = train_model(
            self.model_,
            c,
            (self.encoder_.transform(train_flows), train_index),
            (self.encoder_.transform(validation_flows), validation_index),
            progress=tick,
        )

    def _score_flows_raw(
        self, flows: pl.DataFrame, progress: Progress | None = None
    ) -> np.ndarray:
        c = self.config
        index = build_sequences(
            flows, seq_len=c.seq_len, stride=c.score_stride or c.seq_len
        )
        encoded = self.encoder_.transform(flows)
        tick = progress("scoring", index.n_sequences) if progress else None
        sequence_scores = score_sequences(
            self.model_,
            encoded,
            index,
            n_latent_samples=c.n_latent_samples,
            seed=c.seed,
            progress=tick,
        )
        return flow_scores_from_sequences(sequence_scores, index, flows.height)

    @property
    def model_id_(self) -> str:
        """Short content hash of the weights and configuration."""
        self._check_fitted()
        digest = hashlib.sha256()
        for name, tensor in sorted(self.model_.state_dict().items()):
            digest.update(name.encode())
            digest.update(tensor.detach().contiguous().numpy().tobytes())
        digest.update(repr(sorted(self.config.to_dict().items())).encode())
        digest.update(repr(self.threshold_).encode())
        return digest.hexdigest()[:16]

    def save(self, path: str | Path) -> Path:
        """Write the model directory atomically and return its path."""
        from botwatch.persistence import save_model

        return save_model(self, path)

    @classmethod
    def load(cls, path: str | Path) -> RVAEDetector:
        """Load a model directory written by :meth:`save`."""
        from botwatch.persistence import load_model as _load

        return _load(path)


def load_model(path: str | Path) -> RVAEDetector:
    """Load a model directory written by ``RVAEDetector.save``."""
    return RVAEDetector.load(path)
