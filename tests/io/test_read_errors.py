"""read_flows errors, strict mode, rejects file and the rejected-share limit."""

from __future__ import annotations

import json

import pytest

from botwatch.errors import ConfigError, FlowFormatError, TooManyRejectedError
from botwatch.io import read_flows

FILE_ERRORS = [
    ("does_not_exist.binetflow", "file not found"),
    ("empty.binetflow", "file is empty"),
    ("blank_lines_only.binetflow", "file is empty"),
    ("unknown_format.txt", "unknown flow format"),
    ("truncated.binetflow.gz", "truncated or corrupt gzip file"),
    ("corrupt.binetflow.gz", "truncated or corrupt gzip file"),
    ("truncated.binetflow.bz2", "truncated or corrupt bz2 file"),
    ("truncated.binetflow.xz", "truncated or corrupt xz file"),
    (
        "binetflow_missing_columns.binetflow",
        "lacks required columns TotPkts, TotBytes, SrcBytes",
    ),
]


@pytest.mark.parametrize(("name", "message"), FILE_ERRORS)
def test_read_flows_file_errors(test_data, name, message):
    with pytest.raises(FlowFormatError, match=message):
        read_flows(test_data / name)


def test_read_flows_directory(test_data):
    with pytest.raises(FlowFormatError, match="is a directory"):
        read_flows(test_data)


def test_read_flows_header_only_is_empty_table(test_data):
    result = read_flows(test_data / "header_only.binetflow")
    assert result.flows.height == 0
    assert result.report.rows_read == 0


def test_read_flows_forced_format_mismatch(test_data):
    with pytest.raises(FlowFormatError, match="lacks required columns"):
        read_flows(test_data / "nfdump.csv", format="binetflow")


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"format": "pcap"}, "unknown format 'pcap'"),
        ({"timezone": "Mars/Olympus"}, "unknown time zone 'Mars/Olympus'"),
        ({"max_rejected": 1.5}, r"max_rejected must be a fraction in \[0, 1\]"),
    ],
)
def test_read_flows_invalid_options(test_data, options, message):
    with pytest.raises(ConfigError, match=message):
        read_flows(test_data / "binetflow_quirks.binetflow", **options)


def test_read_flows_no_paths():
    with pytest.raises(ConfigError, match="no input files"):
        read_flows([])


def test_read_flows_too_many_rejected(test_data):
    with pytest.raises(TooManyRejectedError, match=r"12 of 24 rows rejected") as info:
        read_flows(test_data / "binetflow_bad_rows.binetflow")
    assert info.value.report.rows_rejected == 12
    assert isinstance(info.value, FlowFormatError)


def test_read_flows_strict_names_first_bad_row(test_data):
    with pytest.raises(
        FlowFormatError, match=r"line 3: wrong number of fields"
    ) as info:
        read_flows(test_data / "binetflow_bad_rows.binetflow", strict=True)
    assert info.value.line == 3


def test_read_flows_strict_names_column_and_value(tmp_path, test_data):
    lines = (test_data / "binetflow_bad_rows.binetflow").read_text(errors="replace")
    kept = lines.splitlines(keepends=True)
    path = tmp_path / "one_bad.binetflow"
    path.write_text(kept[0] + kept[1] + kept[12])
    with pytest.raises(
        FlowFormatError, match=r"line 3, column Dur: negative duration '-1.5'"
    ) as info:
        read_flows(path, strict=True)
    assert info.value.column == "Dur"
    assert info.value.value == "-1.5"


def test_read_flows_writes_rejects(tmp_path, test_data):
    rejects = tmp_path / "out" / "rejects.jsonl"
    with pytest.raises(TooManyRejectedError):
        read_flows(test_data / "binetflow_bad_rows.binetflow", rejects_path=rejects)
    records = [json.loads(line) for line in rejects.read_text().splitlines()]
    assert len(records) == 12
    first = records[0]
    assert set(first) == {"file", "line", "reason", "column", "value", "text"}
    assert first["line"] == 3
    assert first["text"].startswith("2011/08/16 10:00:05.000001,1.5,tcp")


def test_read_flows_several_files_sorted(test_data):
    result = read_flows(
        [test_data / "nfdump.csv", test_data / "binetflow_quirks.binetflow"]
    )
    assert result.report.rows_read == 11
    assert len(result.report.per_file) == 2
    assert result.flows["start_time"].is_sorted()
    assert result.flows["file"][0].endswith("binetflow_quirks.binetflow")
