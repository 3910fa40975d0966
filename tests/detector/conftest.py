"""A small detector trained once on a real slice of CTU-13 scenario 6."""

from __future__ import annotations

from pathlib import Path

import pytest

from botwatch.detector import RVAEDetector
from botwatch.io import read_flows, time_slice

SCENARIO6 = (
    Path(__file__).resolve().parents[2]
    / ".."
    / "shared"
    / "data"
    / "ctu13"
    / "scenario06_menti_capture20110816.binetflow.gz"
)

# Small enough to train in a few seconds on two cores, large enough that the
# model learns the network's common traffic.
TINY = {
    "hidden_size": 24,
    "latent_dim": 8,
    "epochs": 2,
    "max_train_sequences": 3000,
    "n_latent_samples": 2,
    "home_net": ("147.32.0.0/16",),
    "seed": 7,
}


@pytest.fixture(scope="session")
def scenario6():
    if not SCENARIO6.is_file():
        pytest.skip(f"CTU-13 scenario 6 not found at {SCENARIO6}")
    return read_flows(SCENARIO6).flows


@pytest.fixture(scope="session")
def train_slice(scenario6):
    """The first 10% of scenario 6 by time (about 60,000 flows)."""
    return time_slice(scenario6, 0.0, 0.1)


@pytest.fixture(scope="session")
def test_slice(scenario6):
    """The next 10% of scenario 6 by time, with about 400 botnet flows."""
    return time_slice(scenario6, 0.1, 0.2)


@pytest.fixture(scope="session")
def tiny_detector(train_slice):
    return RVAEDetector(**TINY).fit(train_slice)


@pytest.fixture(scope="session")
def tiny_scored(tiny_detector, test_slice):
    return tiny_detector.score_flows(test_slice)
