"""nfdump CSV reader."""

from __future__ import annotations

from datetime import UTC, datetime

import polars as pl

from botwatch.io import read_flows


def test_nfdump_reader_skips_summary_footer(test_data):
    result = read_flows(test_data / "nfdump.csv")
    assert result.report.per_file[0].format == "nfdump"
    assert result.report.rows_read == 4
    assert result.report.rows_rejected == 0
    assert result.flows["line"].to_list() == [2, 3, 4, 5]


def test_nfdump_reader_maps_fields(test_data):
    flows = read_flows(test_data / "nfdump.csv", timezone="Europe/Prague").flows
    tcp = flows.filter(pl.col("line") == 2).row(0, named=True)
    # 09:04:59 in Prague (UTC+1 in February) is 08:04:59 UTC.
    assert tcp["start_time"] == datetime(2016, 2, 9, 8, 4, 59, tzinfo=UTC)
    assert tcp["duration"] == 2.01
    assert tcp["proto"] == "tcp"
    assert tcp["packets"] == 22
    assert tcp["bytes"] == 10500
    assert tcp["src_bytes"] == 1500
    assert tcp["dst_bytes"] == 9000
    assert tcp["state"] == ".AP.SF"
    assert tcp["state_class"] == "closed"
    assert tcp["label_class"] is None


def test_nfdump_reader_icmp_type_code(test_data):
    flows = read_flows(test_data / "nfdump.csv").flows
    packed = flows.filter(pl.col("line") == 4).row(0, named=True)
    assert (packed["icmp_type"], packed["icmp_code"]) == (8, 0)
    dotted = flows.filter(pl.col("line") == 5).row(0, named=True)
    assert (dotted["icmp_type"], dotted["icmp_code"]) == (3, 3)
    assert dotted["dst_port"] is None
