"""Parsing binetflow chunks two at a time gives the same result as one at a time."""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest
from polars.testing import assert_frame_equal

from botwatch.io import reader

HEADER = (
    "StartTime,Dur,Proto,SrcAddr,Sport,Dir,DstAddr,Dport,State,sTos,dTos,"
    "TotPkts,TotBytes,SrcBytes,Label\n"
)


def _write_capture(path: Path, rows: int) -> None:
    """Write a binetflow file with bad rows and a repeated header among good ones."""
    lines = [HEADER]
    for i in range(rows):
        second = i % 60
        if i % 97 == 0:
            lines.append(
                f"2011/08/16 10:{i // 60 % 60:02d}:{second:02d}.5,-1.0,tcp,"
                "10.0.0.1,1000,  ->,10.0.0.2,80,S_,0,0,1,60,60,flow=Background\n"
            )
        elif i % 211 == 0:
            lines.append("not,enough,fields\n")
        elif i == rows // 2:
            lines.append(HEADER)
        else:
            lines.append(
                f"2011/08/16 10:{i // 60 % 60:02d}:{second:02d}.{i % 1000:03d},0.5,"
                f"udp,10.0.{i % 7}.{i % 250},{1024 + i % 5000},  <->,"
                f"147.32.84.{i % 200},53,CON,0,0,2,200,80,flow=Background-UDP\n"
            )
    with gzip.open(path, "wt", encoding="utf-8") as handle:
        handle.writelines(lines)


@pytest.fixture(scope="module")
def capture(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("parallel") / "many_chunks.binetflow.gz"
    _write_capture(path, 20_000)
    return path


def _read(path: Path, workers: int, monkeypatch: pytest.MonkeyPatch):
    # Small chunks so that the file spans dozens of them.
    monkeypatch.setattr(reader, "_CHUNK_BYTES", 64 * 1024)
    monkeypatch.setattr(reader, "_PARSE_WORKERS", workers)
    return reader.read_flows(path, max_rejected=0.5)


def test_parallel_chunks_same_flows_and_rejects(capture, monkeypatch):
    serial = _read(capture, 1, monkeypatch)
    parallel = _read(capture, 2, monkeypatch)
    assert serial.flows.height > 19_000
    assert_frame_equal(parallel.flows, serial.flows)
    assert_frame_equal(parallel.rejected, serial.rejected)
    assert parallel.report.to_dict() == serial.report.to_dict()


def test_parallel_chunks_line_numbers_exact(capture, monkeypatch):
    result = _read(capture, 2, monkeypatch)
    rejected_lines = result.rejected.get_column("line").to_list()
    # Data row i sits on line i + 2: the header is line 1.
    expected_negative = [i + 2 for i in range(0, 20_000, 97)]
    assert all(line in rejected_lines for line in expected_negative)
    lines = result.flows.get_column("line")
    assert lines.is_unique().all()
    assert result.report.rows_read == result.report.rows_accepted + (
        result.report.rows_rejected
    )
