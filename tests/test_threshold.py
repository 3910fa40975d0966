import numpy as np
import pytest

from botwatch.errors import ConfigError
from botwatch.threshold import calibrate_threshold


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_threshold_tail_fit_matches_target_rate(seed):
    rng = np.random.default_rng(seed)
    benign = rng.exponential(1.0, size=20_000)
    fit = calibrate_threshold(benign, 0.01)
    assert fit.method == "generalized-pareto-tail"
    # The exponential's 99th percentile is ln(100) = 4.605.
    assert fit.threshold == pytest.approx(np.log(100.0), rel=0.08)
    fresh = rng.exponential(1.0, size=200_000)
    assert np.mean(fresh > fit.threshold) == pytest.approx(0.01, abs=0.003)


def test_threshold_few_scores_use_empirical_quantile(caplog):
    scores = np.arange(50, dtype=float)
    fit = calibrate_threshold(scores, 0.1)
    assert fit.method == "empirical-quantile"
    assert fit.threshold == pytest.approx(np.quantile(scores, 0.9))
    assert "empirical" in caplog.text


def test_threshold_score_equal_to_threshold_is_not_alert():
    scores = np.full(100, 3.0)
    fit = calibrate_threshold(scores, 0.05)
    assert fit.threshold == 3.0
    assert fit.benign_fpr == 0.0


def test_threshold_ignores_non_finite_scores():
    scores = np.concatenate([np.linspace(0, 1, 1000), [np.nan, np.inf]])
    fit = calibrate_threshold(scores, 0.01)
    assert fit.n_scores == 1000


@pytest.mark.parametrize("rate", [0.0, -0.1, 0.6])
def test_threshold_rejects_bad_target_rate(rate):
    with pytest.raises(ConfigError, match="target false-positive rate"):
        calibrate_threshold(np.ones(10), rate)


def test_threshold_rejects_empty_scores():
    with pytest.raises(ConfigError, match="no benign scores"):
        calibrate_threshold(np.array([np.nan]), 0.01)
