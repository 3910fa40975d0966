"""Zeek readers: tab-separated and JSON conn logs, labeled variants."""

from __future__ import annotations

from datetime import UTC, datetime

import polars as pl
import pytest

from botwatch.io import read_flows


def _row(flows: pl.DataFrame, line: int) -> dict:
    return flows.filter(pl.col("line") == line).row(0, named=True)


def test_zeek_reader_with_close_footer(test_data):
    result = read_flows(test_data / "zeek_with_close.conn.log")
    assert result.report.rows_read == 3
    assert result.report.rows_accepted == 3
    assert result.report.per_file[0].format == "zeek"
    assert result.flows["line"].to_list() == [9, 10, 11]


def test_zeek_reader_unset_fields_become_zero(test_data):
    flows = read_flows(test_data / "zeek_with_close.conn.log").flows
    row = _row(flows, 10)
    assert row["duration"] == 0.0
    assert row["packets"] == 1
    assert row["src_bytes"] == 60
    assert row["dst_bytes"] == 0
    assert row["bytes"] == 60
    assert row["state"] == "S0"
    assert row["state_class"] == "attempt"
    assert row["label"] is None
    assert row["label_class"] is None


def test_zeek_reader_icmp_type_code_and_ipv6(test_data):
    flows = read_flows(test_data / "zeek_with_close.conn.log").flows
    row = _row(flows, 11)
    assert row["src_addr"] == "fd2d:ab8c:225:0:81d3:fd3e:7f62:aec8"
    assert row["icmp_type"] == 8
    assert row["icmp_code"] == 0
    assert row["src_port"] is None
    assert row["dst_port"] is None


def test_zeek_reader_exact_microseconds(test_data):
    flows = read_flows(test_data / "zeek_with_close.conn.log").flows
    expected = datetime(2018, 12, 21, 14, 50, 16, 962094, tzinfo=UTC)
    assert _row(flows, 9)["start_time"] == expected


def test_zeek_reader_missing_close_footer(test_data):
    # IoT-23 layout: three-space joined label columns, no #close, no final newline.
    result = read_flows(test_data / "zeek_iot23_no_close.conn.log.labeled")
    flows = result.flows
    assert result.report.rows_read == 3
    assert result.report.rows_rejected == 0
    assert _row(flows, 9)["label"] == "Benign"
    assert _row(flows, 9)["label_class"] == "normal"
    assert _row(flows, 10)["label"] == "Malicious|C&C"
    assert _row(flows, 10)["label_class"] == "botnet"
    assert _row(flows, 11)["label"] == "Malicious|PartOfAHorizontalPortScan"


def test_zeek_reader_capture_relative_ts(test_data):
    flows = read_flows(test_data / "zeek_stratosphere.conn.log.labeled").flows
    first = _row(flows, 9)
    assert first["start_time"] == datetime(1970, 1, 1, 0, 0, 19, 981745, tzinfo=UTC)
    assert first["label"] == "Malicious|CC"
    assert first["label_class"] == "botnet"
    second = _row(flows, 10)
    assert second["label"] == "Background"
    assert second["label_class"] == "background"


def test_zeek_json_reader(test_data):
    result = read_flows(test_data / "zeek_conn.json", max_rejected=0.5)
    assert result.report.per_file[0].format == "zeek-json"
    assert result.report.rows_read == 4
    assert result.report.rows_accepted == 3
    assert result.report.rejected_by_reason == {"invalid_json": 1}
    assert result.rejected["line"].to_list() == [4]
    flows = result.flows
    assert _row(flows, 2)["label"] == "Malicious|C&C"
    assert _row(flows, 2)["duration"] == 0.0
    iso = _row(flows, 5)
    assert iso["start_time"] == datetime(2018, 12, 21, 14, 50, 30, 500000, tzinfo=UTC)
    assert iso["icmp_type"] == 8


def test_zeek_reader_rejects_other_logs(test_data):
    with pytest.raises(ValueError, match="'dns' log, not a conn log"):
        read_flows(test_data / "zeek_dns.log")


def test_zeek_reader_missing_fields_named(tmp_path):
    path = tmp_path / "conn.log"
    path.write_text("#separator \\x09\n#fields\tts\tuid\tproto\n1.0\tC1\ttcp\n")
    with pytest.raises(
        ValueError, match=r"lacks required fields id\.orig_h, id\.orig_p"
    ):
        read_flows(path)
