"""Real captures: published row and label counts must come out exactly."""

from __future__ import annotations

import polars as pl
import pytest

from botwatch.io import FLOW_SCHEMA, iter_flow_batches, read_flows


def test_scenario6_counts(scenario6):
    report = scenario6.report
    assert report.rows_read == 558_919
    assert report.rows_accepted == 558_919
    assert report.rows_rejected == 0
    classes = report.summary.label_classes
    assert classes["botnet"] == 4_630
    assert classes["normal"] == 7_494
    assert classes["background"] == 546_795


def test_scenario6_table(scenario6):
    flows = scenario6.flows
    assert flows.schema == pl.Schema(FLOW_SCHEMA)
    assert flows["start_time"].is_sorted()
    icmp_hex = flows.filter(
        pl.col("proto") == "icmp", pl.col("icmp_type").is_not_null()
    )
    # Scenario 6 has 5,197 ICMP flows with hexadecimal type and code.
    assert icmp_hex.height == 5_197
    assert flows["line"].min() == 2
    assert flows["line"].max() == 558_920
    assert flows["state_class"].null_count() == 0
    cc = flows.filter(pl.col("label").str.contains("CC73", literal=True))
    assert cc.height == 199


def test_scenario6_to_dict_keys(scenario6):
    keys = set(scenario6.report.to_dict())
    assert {
        "rows_read",
        "rows_accepted",
        "rows_rejected",
        "rejected_by_reason",
        "label_classes",
        "hosts",
        "start",
        "end",
        "protocols",
    } <= keys
    assert scenario6.report.to_dict()["start"] == "2011-08-16T10:01:46.972101Z"


def test_iot23_mirai_counts(iot23_path):
    result = read_flows(iot23_path)
    report = result.report
    assert report.rows_read == 23_145
    assert report.rows_rejected == 0
    assert report.summary.label_classes["botnet"] == 21_222
    assert report.summary.label_classes["normal"] == 1_923
    details = result.flows["label"].value_counts()
    counts = dict(details.iter_rows())
    assert counts["Malicious|DDoS"] == 14_394
    assert counts["Malicious|C&C"] == 6_706
    assert counts["Malicious|PartOfAHorizontalPortScan"] == 122


def test_iot23_batches_match_whole(iot23_path):
    batches = list(iter_flow_batches(iot23_path, batch_rows=5_000))
    assert len(batches) == 5
    whole = read_flows(iot23_path).flows.sort("line")
    assert pl.concat(batches).equals(whole)


STRATOSPHERE = [
    (
        "ctu-malware-capture-botnet-230-1_njrat_first1000.conn.log.labeled",
        992,
        244,
        9,
        739,
        0,
    ),
    ("ctu-sme-11_win7_remcosrat_first5000pkts.conn.log.labeled", 766, 719, 44, 0, 3),
    ("ctu-normal-40_day1.conn.log.labeled", 5_663, 4_201, 1_402, 60, 0),
    ("ctu-normal-42_day2.conn.log.labeled", 5_347, 3_373, 1_937, 37, 0),
    ("ctu-normal-43_day1.conn.log.labeled", 9_048, 3_951, 4_771, 326, 0),
    ("ctu-normal-44_day2.conn.log.labeled", 4_740, 3_028, 782, 930, 0),
]


@pytest.mark.parametrize(
    ("name", "rows", "botnet", "normal", "background", "unknown"), STRATOSPHERE
)
def test_stratosphere_counts(
    shared_data, name, rows, botnet, normal, background, unknown
):
    path = shared_data / "stratosphere-zeek-labeled" / name
    if not path.is_file():
        pytest.skip(f"{path} not found")
    report = read_flows(path).report
    assert report.rows_read == rows
    assert report.rows_rejected == 0
    classes = report.summary.label_classes
    assert classes["botnet"] == botnet
    assert classes["normal"] == normal
    assert classes["background"] == background
    assert classes["unknown"] == unknown
