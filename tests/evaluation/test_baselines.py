"""Baselines share the model's configuration."""

from __future__ import annotations

from botwatch.detector import RVAEDetector
from botwatch.evaluation.baselines import (
    SUPERVISED,
    IsolationForestDetector,
    RandomForestDetector,
    build_baselines,
)


def test_build_baselines_share_config() -> None:
    model = RVAEDetector(
        seed=7,
        train_on="benign",
        home_net=("147.32.0.0/16",),
        window_seconds=120,
        target_fpr=0.005,
        seq_len=12,
        stride=6,
    )
    baselines = build_baselines(model)
    assert set(baselines) == {
        "Isolation Forest",
        "VAE (single flows)",
        "GRU autoencoder",
        "Random forest",
    }
    for name, baseline in baselines.items():
        assert baseline.config.seed == 7, name
        assert baseline.config.home_net == ("147.32.0.0/16",), name
        assert baseline.config.window_seconds == 120, name
        assert baseline.config.target_fpr == 0.005, name


def test_build_baselines_ablations() -> None:
    baselines = build_baselines(RVAEDetector(train_on="benign", seq_len=12, stride=6))
    assert isinstance(baselines["Isolation Forest"], IsolationForestDetector)
    assert baselines["Isolation Forest"].config.train_on == "benign"
    assert baselines["VAE (single flows)"].config.seq_len == 1
    assert baselines["VAE (single flows)"].config.variational is True
    assert baselines["GRU autoencoder"].config.seq_len == 12
    assert baselines["GRU autoencoder"].config.variational is False


def test_random_forest_is_supervised() -> None:
    baselines = build_baselines(RVAEDetector(train_on="benign"))
    assert isinstance(baselines["Random forest"], RandomForestDetector)
    assert baselines["Random forest"].config.train_on == "all"
    assert SUPERVISED == {"Random forest"}
