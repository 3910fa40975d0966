"""Binetflow reader: CTU-13 quirks on crafted files."""

from __future__ import annotations

from datetime import UTC, datetime

import polars as pl
import pytest

from botwatch.io import FLOW_SCHEMA, read_flows

QUIRK_FILES = [
    "binetflow_quirks.binetflow",
    "binetflow_quirks_crlf.binetflow",
    "binetflow_quirks.binetflow.gz",
    "binetflow_quirks.binetflow.bz2",
    "binetflow_quirks.binetflow.xz",
    "gzip_without_extension.binetflow",
    "binetflow_two_members.binetflow.gz",
]


@pytest.mark.parametrize("name", QUIRK_FILES)
def test_binetflow_quirks_read_alike(test_data, name):
    result = read_flows(test_data / name)
    flows = result.flows
    assert flows.schema == pl.Schema(FLOW_SCHEMA)
    assert result.report.rows_read == 7
    assert result.report.rows_accepted == 7
    assert result.report.rows_rejected == 0
    # Sorted by start time; line numbers skip the blank and repeated header.
    assert flows["line"].to_list() == [3, 2, 6, 7, 8, 9, 10]
    assert flows["start_time"].is_sorted()


def test_binetflow_compression_detected_from_magic(test_data):
    result = read_flows(test_data / "gzip_without_extension.binetflow")
    assert result.report.per_file[0].compression == "gzip"


@pytest.fixture(scope="module")
def quirks(test_data) -> pl.DataFrame:
    return read_flows(test_data / "binetflow_quirks.binetflow").flows


def _row(flows: pl.DataFrame, line: int) -> dict:
    return flows.filter(pl.col("line") == line).row(0, named=True)


def test_binetflow_icmp_hex_ports_kept_as_type_code(quirks):
    icmp = _row(quirks, 6)
    assert icmp["proto"] == "icmp"
    assert icmp["icmp_type"] == 3
    assert icmp["icmp_code"] == 3
    assert icmp["src_port"] is None
    assert icmp["dst_port"] is None
    assert icmp["state_class"] == "rejected"


def test_binetflow_ipv6_and_empty_ports(quirks):
    ipv6 = _row(quirks, 7)
    assert ipv6["src_addr"] == "2001:718:2:1612:0:1:0:310"
    assert ipv6["icmp_type"] == 135
    arp = _row(quirks, 8)
    assert arp["src_port"] is None
    assert arp["dst_port"] is None
    assert arp["direction"] == "who"


def test_binetflow_empty_tos_is_null(quirks):
    row = _row(quirks, 3)
    assert row["src_tos"] is None
    assert row["dst_tos"] is None


def test_binetflow_values_mapped(quirks):
    row = _row(quirks, 2)
    assert row["start_time"] == datetime(2011, 8, 16, 10, 0, 5, 1, tzinfo=UTC)
    assert row["duration"] == 1.5
    assert row["direction"] == "->"
    assert row["packets"] == 10
    assert row["bytes"] == 1000
    assert row["src_bytes"] == 400
    assert row["dst_bytes"] == 600
    assert row["state_class"] == "closed"
    assert row["label"] == "flow=From-Botnet-V47-TCP-CC73-Not-Encrypted"
    assert row["label_class"] == "botnet"
    assert _row(quirks, 3)["label_class"] == "normal"
    assert _row(quirks, 6)["label_class"] == "background"


def test_binetflow_iso_dates_and_hex_port(quirks):
    assert _row(quirks, 9)["start_time"] == datetime(
        2011, 8, 16, 10, 0, 10, 500000, tzinfo=UTC
    )
    row = _row(quirks, 10)
    assert row["start_time"] == datetime(2011, 8, 16, 10, 0, 11, tzinfo=UTC)
    assert row["dst_port"] == 53


def test_binetflow_empty_label_is_null(quirks):
    row = _row(quirks, 10)
    assert row["label"] is None
    assert row["label_class"] is None


def test_binetflow_without_label_column(test_data):
    flows = read_flows(test_data / "binetflow_no_label.binetflow").flows
    assert flows.height == 2
    assert flows["label"].null_count() == 2
    assert flows["label_class"].null_count() == 2


def test_binetflow_column_order_from_header(test_data):
    flows = read_flows(test_data / "binetflow_reordered.binetflow").flows
    row = flows.row(0, named=True)
    assert row["src_addr"] == "147.32.84.170"
    assert row["proto"] == "tcp"
    assert row["label_class"] == "normal"
    assert row["src_tos"] is None


def test_binetflow_timezone_converts_to_utc(test_data):
    flows = read_flows(
        test_data / "binetflow_quirks.binetflow", timezone="Europe/Prague"
    ).flows
    # Prague is UTC+2 in August.
    assert _row(flows, 2)["start_time"] == datetime(2011, 8, 16, 8, 0, 5, 1, tzinfo=UTC)


def test_binetflow_header_with_other_columns_mid_file(tmp_path, test_data):
    text = (test_data / "binetflow_quirks.binetflow").read_text()
    reordered = (test_data / "binetflow_reordered.binetflow").read_text()
    path = tmp_path / "mixed.binetflow"
    path.write_text(text + reordered)
    result = read_flows(path)
    assert result.report.rows_read == 8
    assert result.report.rows_rejected == 0
    last = _row(result.flows, 12)
    assert last["src_addr"] == "147.32.84.170"
    assert last["label_class"] == "normal"


BAD_ROWS = [
    (3, "wrong_field_count", None),
    (5, "wrong_field_count", None),
    (7, "missing_value", "StartTime"),
    (9, "invalid_timestamp", "StartTime"),
    (11, "invalid_number", "Dur"),
    (13, "negative_duration", "Dur"),
    (15, "invalid_address", "SrcAddr"),
    (17, "invalid_port", "Sport"),
    (19, "invalid_port", "Sport"),
    (21, "negative_count", "TotPkts"),
    (23, "bytes_mismatch", "SrcBytes"),
    (25, "invalid_utf8", None),
]


@pytest.fixture(scope="module")
def bad_rows(test_data):
    return read_flows(test_data / "binetflow_bad_rows.binetflow", max_rejected=1.0)


def test_binetflow_bad_rows_counted(bad_rows):
    report = bad_rows.report
    assert report.rows_read == 24
    assert report.rows_accepted == 12
    assert report.rows_rejected == 12
    assert report.rows_read == report.rows_accepted + report.rows_rejected
    assert report.rejected_by_reason["wrong_field_count"] == 2
    assert report.rejected_by_reason["invalid_port"] == 2


@pytest.mark.parametrize(("line", "reason", "column"), BAD_ROWS)
def test_binetflow_bad_row_reason(bad_rows, line, reason, column):
    row = bad_rows.rejected.filter(pl.col("line") == line).row(0, named=True)
    assert row["reason"] == reason
    assert row["column"] == column
    assert row["text"]


def test_binetflow_good_rows_between_bad_ones(bad_rows):
    assert bad_rows.flows["line"].to_list() == list(range(2, 25, 2))
