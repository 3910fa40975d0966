"""Baseline detectors that the RVAE is compared with.

Every baseline is a ``BaseFlowDetector``. It learns from the same training
flows (``train_on``), holds out the same time span and calibrates its
threshold with the same tail fit at the same target FPR as the RVAE, so only
the per-flow scorer differs. The tree models see the RVAE's own features through
``FeatureEncoder.matrix`` (numeric features then one-hot categories).

- Isolation Forest on single flows: the classic unsupervised reference.
- VAE on single flows: the RVAE with ``seq_len=1``, which shows what the
  sequence of a host's flows adds.
- GRU autoencoder: the RVAE with ``variational=False``, the deterministic
  ablation.
- Random forest: supervised, trained on the botnet labels of the training
  flows, so it is an upper reference and not a fair competitor.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

import numpy as np
import polars as pl
from sklearn.ensemble import IsolationForest, RandomForestClassifier

from botwatch.detector import BaseFlowDetector, RVAEDetector
from botwatch.errors import ConfigError
from botwatch.features import FeatureEncoder

if TYPE_CHECKING:
    from botwatch.detector import Progress

__all__ = [
    "SUPERVISED",
    "IsolationForestDetector",
    "RandomForestDetector",
    "build_baselines",
]

logger = logging.getLogger(__name__)

ISOLATION_FOREST = "Isolation Forest"
FLOW_VAE = "VAE (single flows)"
GRU_AUTOENCODER = "GRU autoencoder"
RANDOM_FOREST = "Random forest"

# Names of the baselines that learn from labels.
SUPERVISED = frozenset({RANDOM_FOREST})

# Tree counts: scikit-learn's Isolation Forest default, and enough trees for a
# stable random-forest probability at a few seconds of CPU per 100k flows.
ISOLATION_FOREST_TREES = 100
RANDOM_FOREST_TREES = 50
# Leaves of at least this many flows keep the forest from memorising single
# training flows, which would make its probabilities all 0 or 1.
RANDOM_FOREST_MIN_LEAF = 5


def _nan_without_host(flows: pl.DataFrame, scores: np.ndarray) -> np.ndarray:
    scores = scores.astype(np.float64)
    scores[flows.get_column("host").is_null().to_numpy()] = np.nan
    return scores


class IsolationForestDetector(BaseFlowDetector):
    """Isolation Forest over single flows, scored by negated ``score_samples``."""

    def _fit_scorer(
        self,
        train_flows: pl.DataFrame,
        validation_flows: pl.DataFrame,
        progress: Progress | None,
    ) -> None:
        self.encoder_ = FeatureEncoder().fit(train_flows)
        self.forest_ = IsolationForest(
            n_estimators=ISOLATION_FOREST_TREES, random_state=self.config.seed
        ).fit(self.encoder_.matrix(train_flows))

    def _score_flows_raw(
        self, flows: pl.DataFrame, progress: Progress | None = None
    ) -> np.ndarray:
        if flows.height == 0:
            return np.zeros(0)
        # scikit-learn's score_samples is lower for more abnormal flows.
        scores = -self.forest_.score_samples(self.encoder_.matrix(flows))
        return _nan_without_host(flows, scores)


class RandomForestDetector(BaseFlowDetector):
    """Supervised random forest: the score is the predicted botnet probability.

    It needs botnet flows to learn from, so it is built with ``train_on="all"``
    and trains on every labeled training flow: botnet against everything else
    (normal and background). Its threshold still comes from the base class's
    tail fit at the target FPR over the held-out host windows, which for this
    model contain the botnet hosts too.
    """

    def _fit_scorer(
        self,
        train_flows: pl.DataFrame,
        validation_flows: pl.DataFrame,
        progress: Progress | None,
    ) -> None:
        labeled = train_flows.filter(pl.col("label_class").is_not_null())
        target = (labeled.get_column("label_class") == "botnet").to_numpy()
        if not target.any() or target.all():
            msg = (
                f"the random forest baseline needs botnet and other labeled "
                f"flows in its training flows, got {int(target.sum())} botnet of "
                f"{labeled.height} labeled; train it on a labeled capture with a bot"
            )
            raise ConfigError(msg, field="train_on")
        self.encoder_ = FeatureEncoder().fit(labeled)
        self.forest_ = RandomForestClassifier(
            n_estimators=RANDOM_FOREST_TREES,
            min_samples_leaf=RANDOM_FOREST_MIN_LEAF,
            random_state=self.config.seed,
            n_jobs=1,
        ).fit(self.encoder_.matrix(labeled), target)

    def _score_flows_raw(
        self, flows: pl.DataFrame, progress: Progress | None = None
    ) -> np.ndarray:
        if flows.height == 0:
            return np.zeros(0)
        botnet_column = list(self.forest_.classes_).index(True)
        scores = self.forest_.predict_proba(self.encoder_.matrix(flows))[
            :, botnet_column
        ]
        return _nan_without_host(flows, scores)


def build_baselines(model: BaseFlowDetector) -> dict[str, BaseFlowDetector]:
    """Return unfitted baselines that share ``model``'s configuration.

    Seed, ``train_on``, home network, window, target FPR and every training
    setting carry over; the VAE and GRU autoencoder change only ``seq_len``
    (with ``stride`` and the per-epoch sequence cap) and ``variational``. The
    random forest gets ``train_on="all"`` because it learns from labels, and
    no host baselines.
    """
    config = model.config
    overrides: dict[str, dict[str, Any]] = {
        # No cap on sequences per epoch: one-flow sequences would otherwise
        # let the ablation see far fewer flows per epoch than the RVAE.
        FLOW_VAE: {"seq_len": 1, "stride": 1, "max_train_sequences": 0},
        GRU_AUTOENCODER: {"variational": False},
    }
    return {
        ISOLATION_FOREST: IsolationForestDetector(config),
        FLOW_VAE: RVAEDetector(config.replace(**overrides[FLOW_VAE])),
        GRU_AUTOENCODER: RVAEDetector(config.replace(**overrides[GRU_AUTOENCODER])),
        # Learning from labels needs the botnet flows in training, and then a
        # host-level offset would absorb the bot's own high scores.
        RANDOM_FOREST: RandomForestDetector(
            config.replace(train_on="all", host_baselines=False)
        ),
    }
