"""The ``botwatch inspect`` command."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from botwatch.cli.app import EXIT_TOO_MANY_REJECTED, main


def test_inspect_json_totals(test_data):
    runner = CliRunner()
    result = runner.invoke(
        main,
        [
            "inspect",
            "--json",
            str(test_data / "binetflow_quirks.binetflow"),
            str(test_data / "nfdump.csv"),
        ],
    )
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["rows_read"] == 11
    assert report["rows_accepted"] == 11
    assert report["rows_rejected"] == 0
    assert report["rejected_by_reason"] == {}
    assert report["label_classes"]["botnet"] == 1
    assert report["label_classes"]["unlabeled"] == 5
    assert report["hosts"] == 6
    assert report["start"] == "2011-08-16T10:00:01.500000Z"
    assert report["end"] == "2016-02-09T09:05:03.000000Z"
    assert report["protocols"]["tcp"] == 3
    assert len(report["files"]) == 2


def test_inspect_text_report(test_data):
    result = CliRunner().invoke(main, ["inspect", str(test_data / "nfdump.csv")])
    assert result.exit_code == 0, result.output
    assert "nfdump.csv (nfdump, none)" in result.stdout
    assert "rows read      4" in result.stdout
    assert "protocols      icmp 2, tcp 1, udp 1" in result.stdout
    assert "total (1 files)" in result.stdout


def test_inspect_too_many_rejected_exits_3(tmp_path, test_data):
    rejects = tmp_path / "rejects.jsonl"
    result = CliRunner().invoke(
        main,
        [
            "inspect",
            "--json",
            "--rejects",
            str(rejects),
            str(test_data / "binetflow_bad_rows.binetflow"),
        ],
    )
    assert result.exit_code == EXIT_TOO_MANY_REJECTED
    assert "botwatch: error:" in result.stderr
    assert "12 of 24 rows rejected" in result.stderr
    assert json.loads(result.stdout)["rows_rejected"] == 12
    assert len(rejects.read_text().splitlines()) == 12


def test_inspect_max_rejected_allows(test_data):
    result = CliRunner().invoke(
        main,
        [
            "inspect",
            "--max-rejected",
            "0.6",
            str(test_data / "binetflow_bad_rows.binetflow"),
        ],
    )
    assert result.exit_code == 0, result.output
    assert "rejected       12 (wrong_field_count 2" in result.stdout


def test_inspect_strict_error(test_data):
    result = CliRunner().invoke(
        main, ["inspect", "--strict", str(test_data / "binetflow_bad_rows.binetflow")]
    )
    assert result.exit_code == 1
    assert "botwatch: error:" in result.stderr
    assert "line 3: wrong number of fields" in result.stderr


def test_inspect_missing_file(tmp_path):
    result = CliRunner().invoke(main, ["inspect", str(tmp_path / "nope.binetflow")])
    assert result.exit_code == 1
    assert "file not found" in result.stderr


def test_inspect_bad_timezone(test_data):
    result = CliRunner().invoke(
        main, ["inspect", "--timezone", "Nowhere/Land", str(test_data / "nfdump.csv")]
    )
    assert result.exit_code == 1
    assert "unknown time zone 'Nowhere/Land'" in result.stderr


@pytest.mark.slow
def test_inspect_real_scenario6(scenario6_path):
    result = CliRunner().invoke(main, ["inspect", "--json", str(scenario6_path)])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["rows_accepted"] == 558_919
    assert report["rows_rejected"] == 0
    assert report["label_classes"]["botnet"] == 4_630
    assert report["label_classes"]["normal"] == 7_494
    assert report["label_classes"]["background"] == 546_795
