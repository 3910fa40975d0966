"""Alert threshold for a target false-positive rate, from benign scores.

Scores are anomaly scores: higher means more anomalous, and a score strictly
above the threshold raises an alert (a score equal to the threshold does not).

The threshold is fitted by peaks over threshold: scores above a high empirical
quantile ``u`` of benign held-out scores are modelled by a generalised Pareto
distribution, and the threshold t solves P(S > u) * P_GPD(S - u > t - u) =
target_fpr. Extrapolating the tail this way gives a usable threshold at rates
too small for the empirical quantile to resolve. With too few exceedances to
fit, the empirical quantile is used and the method records that.
"""

from __future__ import annotations

import logging
import math
from dataclasses import asdict, dataclass

import numpy as np
from scipy import stats

from botwatch.errors import ConfigError

__all__ = ["ThresholdFit", "calibrate_threshold"]

logger = logging.getLogger(__name__)

# Minimum number of exceedances of u for a generalised Pareto fit.
_MIN_EXCEEDANCES = 30


@dataclass(frozen=True)
class ThresholdFit:
    """A calibrated threshold and how it was obtained."""

    threshold: float
    target_fpr: float
    method: str
    n_scores: int
    tail_quantile: float | None = None
    tail_start: float | None = None
    gpd_shape: float | None = None
    gpd_scale: float | None = None
    benign_fpr: float | None = None

    def to_dict(self) -> dict[str, float | int | str | None]:
        """Return the fields as JSON values."""
        return asdict(self)


def calibrate_threshold(scores: np.ndarray, target_fpr: float) -> ThresholdFit:
    """Fit a threshold so that about ``target_fpr`` of benign scores exceed it.

    Parameters
    ----------
    scores
        Anomaly scores of benign traffic not used for training, shape [N].
    target_fpr
        Share of benign scores allowed above the threshold, in (0, 0.5].

    Raises
    ------
    ConfigError
        When there are no finite scores or ``target_fpr`` is out of range.
    """
    if not 0.0 < target_fpr <= 0.5:
        msg = f"target false-positive rate must lie in (0, 0.5], got {target_fpr!r}"
        raise ConfigError(msg, field="target_fpr")
    values = np.asarray(scores, dtype=np.float64)
    values = values[np.isfinite(values)]
    if values.size == 0:
        msg = (
            "no benign scores to calibrate the threshold on; train on more flows or "
            "pass a threshold explicitly"
        )
        raise ConfigError(msg, field="threshold")
    # The tail starts where ten times the target rate of scores lie above it,
    # but never below the 80th percentile.
    tail_quantile = max(0.8, 1.0 - 10.0 * target_fpr)
    tail_start = float(np.quantile(values, tail_quantile))
    exceedances = values[values > tail_start] - tail_start
    share_above = exceedances.size / values.size
    threshold: float
    if exceedances.size >= _MIN_EXCEEDANCES and share_above > target_fpr:
        shape, _, scale = stats.genpareto.fit(exceedances, floc=0.0)
        threshold = tail_start + float(
            stats.genpareto.isf(target_fpr / share_above, shape, loc=0.0, scale=scale)
        )
        method = "generalized-pareto-tail"
        fit_shape: float | None = float(shape)
        fit_scale: float | None = float(scale)
        if not math.isfinite(threshold):
            threshold = float(np.quantile(values, 1.0 - target_fpr))
            method = "empirical-quantile"
    else:
        threshold = float(np.quantile(values, 1.0 - target_fpr))
        method = "empirical-quantile"
        fit_shape = fit_scale = None
        logger.warning(
            "only %d benign scores above the tail start: the threshold is the "
            "empirical %.4g quantile of %d scores, not a tail fit",
            exceedances.size,
            1.0 - target_fpr,
            values.size,
        )
    return ThresholdFit(
        threshold=threshold,
        target_fpr=target_fpr,
        method=method,
        n_scores=int(values.size),
        tail_quantile=tail_quantile,
        tail_start=tail_start,
        gpd_shape=fit_shape,
        gpd_scale=fit_scale,
        benign_fpr=float(np.mean(values > threshold)),
    )
