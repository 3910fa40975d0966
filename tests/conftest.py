"""Fixtures shared by the test suite: paths to crafted and real flow files."""

from __future__ import annotations

from pathlib import Path

import pytest

TEST_DATA = Path(__file__).resolve().parent / "data"
# Real captures live beside the repository, in ../shared/data.
SHARED_DATA = Path(__file__).resolve().parents[1] / ".." / "shared" / "data"

SCENARIO6 = "ctu13/scenario06_menti_capture20110816.binetflow.gz"
IOT23_MIRAI = "iot23/CTU-IoT-Malware-Capture-34-1_mirai.conn.log.labeled"


@pytest.fixture(scope="session")
def test_data() -> Path:
    """Directory of the small crafted files."""
    return TEST_DATA


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """Directory of the real captures; skips the test when it is absent."""
    if not SHARED_DATA.is_dir():
        pytest.skip(f"real captures not found at {SHARED_DATA.resolve()}")
    return SHARED_DATA.resolve()


@pytest.fixture(scope="session")
def scenario6_path(shared_data: Path) -> Path:
    """CTU-13 scenario 6 binetflow (558,919 flows, gzip)."""
    path = shared_data / SCENARIO6
    if not path.is_file():
        pytest.skip(f"{path} not found")
    return path


@pytest.fixture(scope="session")
def iot23_path(shared_data: Path) -> Path:
    """IoT-23 Mirai capture 34-1, Zeek conn.log.labeled (23,145 flows)."""
    path = shared_data / IOT23_MIRAI
    if not path.is_file():
        pytest.skip(f"{path} not found")
    return path


@pytest.fixture(scope="session")
def scenario6(scenario6_path: Path):
    """Scenario 6 read once per test session, since it takes about a second."""
    from botwatch.io import read_flows

    return read_flows(scenario6_path)
