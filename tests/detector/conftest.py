"""A small detector trained once on a real slice of CTU-13 scenario 6."""

from __future__ import annotations

import pytest

from botwatch.detector import RVAEDetector
from botwatch.io import time_slice

from factories import TINY_DETECTOR


@pytest.fixture(scope="session")
def train_slice(scenario6):
    """The first 10% of scenario 6 by time (about 60,000 flows)."""
    return time_slice(scenario6.flows, 0.0, 0.1)


@pytest.fixture(scope="session")
def test_slice(scenario6):
    """The next 10% of scenario 6 by time, with about 380 botnet flows."""
    return time_slice(scenario6.flows, 0.1, 0.2)


@pytest.fixture(scope="session")
def tiny_detector(train_slice):
    return RVAEDetector(**TINY_DETECTOR).fit(train_slice)


@pytest.fixture(scope="session")
def tiny_scored(tiny_detector, test_slice):
    return tiny_detector.score_flows(test_slice)
