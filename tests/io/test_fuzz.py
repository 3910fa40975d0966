"""Property tests: any input gives a table or a botwatch error, never a crash."""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from botwatch.errors import BotwatchError
from botwatch.io import read_flows

CRAFTED = [
    "binetflow_quirks.binetflow",
    "binetflow_bad_rows.binetflow",
    "zeek_iot23_no_close.conn.log.labeled",
    "zeek_with_close.conn.log",
    "zeek_conn.json",
    "nfdump.csv",
]
FUZZ_SETTINGS = settings(
    max_examples=50,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)


def _read_or_error(path: Path) -> None:
    try:
        result = read_flows(path, max_rejected=1.0)
    except BotwatchError:
        return
    report = result.report
    assert report.rows_read == report.rows_accepted + report.rows_rejected
    assert result.flows.height == report.rows_accepted
    assert result.rejected.height == report.rows_rejected


@FUZZ_SETTINGS
@given(data=st.binary(max_size=2_000))
def test_read_flows_arbitrary_bytes(tmp_path, data):
    path = tmp_path / "fuzz.bin"
    path.write_bytes(data)
    _read_or_error(path)


@FUZZ_SETTINGS
@given(
    name=st.sampled_from(CRAFTED), cut=st.floats(0.0, 1.0), noise=st.binary(max_size=40)
)
def test_read_flows_truncated_crafted(tmp_path, test_data, name, cut, noise):
    data = (test_data / name).read_bytes()
    path = tmp_path / "prefix"
    path.write_bytes(data[: int(len(data) * cut)] + noise)
    _read_or_error(path)


@pytest.fixture(scope="module")
def real_prefixes(shared_data) -> list[bytes]:
    """The first 64 KiB of each real capture, decompressed."""
    prefixes = []
    for path in sorted(shared_data.rglob("*")):
        if not path.is_file() or path.name in {"README.md", "SHA256SUMS"}:
            continue
        if path.suffix == ".gz":
            with gzip.open(path, "rb") as handle:
                prefixes.append(handle.read(65_536))
        else:
            prefixes.append(path.read_bytes()[:65_536])
    return prefixes


@FUZZ_SETTINGS
@given(index=st.integers(0, 100), cut=st.integers(0, 65_536), compress=st.booleans())
def test_read_flows_truncated_real(tmp_path, real_prefixes, index, cut, compress):
    data = real_prefixes[index % len(real_prefixes)][:cut]
    path = tmp_path / "real_prefix"
    if compress:
        # A gzip stream cut short, as an interrupted download leaves it.
        packed = gzip.compress(data, mtime=0)
        data = packed[: max(1, len(packed) * cut // 65_536)]
    path.write_bytes(data)
    _read_or_error(path)


@FUZZ_SETTINGS
@given(
    name=st.sampled_from(CRAFTED),
    position=st.floats(0.0, 1.0),
    line=st.text(alphabet=st.characters(codec="utf-8"), max_size=200),
)
def test_read_flows_inserted_line(tmp_path, test_data, name, position, line):
    lines = (test_data / name).read_bytes().splitlines(keepends=True)
    index = int(len(lines) * position)
    lines.insert(index, line.encode("utf-8", errors="replace") + b"\n")
    path = tmp_path / "inserted"
    path.write_bytes(b"".join(lines))
    _read_or_error(path)
