"""iter_flow_batches, time_slice and parse_slice."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import polars as pl
import pytest

from botwatch.errors import ConfigError
from botwatch.io import (
    FLOW_SCHEMA,
    iter_flow_batches,
    parse_slice,
    read_flows,
    time_slice,
)


@pytest.mark.parametrize("batch_rows", [1, 2, 3, 100])
def test_iter_flow_batches_matches_read_flows(test_data, batch_rows):
    path = test_data / "binetflow_quirks.binetflow.gz"
    batches = list(iter_flow_batches(path, batch_rows=batch_rows))
    assert all(batch.schema == pl.Schema(FLOW_SCHEMA) for batch in batches)
    assert all(batch.height <= batch_rows for batch in batches)
    combined = pl.concat(batches)
    # Batches keep file order, so the line numbers come back in order.
    assert combined["line"].to_list() == [2, 3, 6, 7, 8, 9, 10]
    whole = read_flows(path).flows.sort("line")
    assert combined.equals(whole)


@pytest.mark.parametrize(
    "name",
    ["zeek_iot23_no_close.conn.log.labeled", "nfdump.csv", "zeek_conn.json"],
)
def test_iter_flow_batches_other_formats(test_data, name):
    combined = pl.concat(list(iter_flow_batches(test_data / name, batch_rows=2)))
    whole = read_flows(test_data / name, max_rejected=1.0).flows.sort("line")
    assert combined.equals(whole)


def test_iter_flow_batches_invalid_size(test_data):
    with pytest.raises(ConfigError, match="batch_rows must be at least 1"):
        next(iter_flow_batches(test_data / "nfdump.csv", batch_rows=0))


def _flows_at(seconds: list[int]) -> pl.DataFrame:
    start = datetime(2011, 8, 16, tzinfo=UTC)
    rows = {name: [None] * len(seconds) for name in FLOW_SCHEMA}
    rows["start_time"] = [start + timedelta(seconds=s) for s in seconds]
    return pl.DataFrame(rows, schema=FLOW_SCHEMA)


def test_time_slice_half_open():
    flows = _flows_at([0, 25, 50, 75, 100])
    first = time_slice(flows, 0.0, 0.5)
    second = time_slice(flows, 0.5, 1.0)
    assert first.height == 2
    assert second.height == 3
    assert first.height + second.height == flows.height


def test_time_slice_empty_table():
    assert time_slice(_flows_at([]), 0.0, 0.5).height == 0


@pytest.mark.parametrize(
    ("start", "end"), [(0.5, 0.5), (-0.1, 0.5), (0.2, 1.1), (0.8, 0.2)]
)
def test_time_slice_invalid_fractions(start, end):
    with pytest.raises(
        ConfigError, match="expected fractions A:B with 0 <= A < B <= 1"
    ):
        time_slice(_flows_at([0, 1]), start, end)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("0:0.5", (0.0, 0.5)),
        ("0.5:1", (0.5, 1.0)),
        (":0.25", (0.0, 0.25)),
        ("0.75:", (0.75, 1.0)),
    ],
)
def test_parse_slice_valid(text, expected):
    assert parse_slice(text) == expected


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("0.5", "expected A:B"),
        ("a:b", "must be numbers"),
        ("0.6:0.2", "0 <= A < B <= 1"),
        ("0:1:2", "expected A:B"),
    ],
)
def test_parse_slice_invalid(text, message):
    with pytest.raises(ConfigError, match=message):
        parse_slice(text)
