"""Readers that turn flow records of every supported format into one table.

Supported formats: Argus binetflow (CTU-13), Zeek conn.log as tab-separated
text or JSON lines (including the labeled IoT-23 and Stratosphere logs) and
``nfdump -o csv`` output, each plain or gzip, bz2 or xz compressed. Every
reader produces the table described in :mod:`botwatch.io.schema`.
"""

from __future__ import annotations

from botwatch.io.batches import iter_flow_batches
from botwatch.io.detect import FORMATS
from botwatch.io.reader import ReadResult, read_flows
from botwatch.io.report import FileReport, FlowSummary, ReadReport
from botwatch.io.schema import FLOW_SCHEMA, LABEL_CLASSES, STATE_CLASSES, empty_flows
from botwatch.io.slicing import parse_slice, time_slice

__all__ = [
    "FLOW_SCHEMA",
    "FORMATS",
    "LABEL_CLASSES",
    "STATE_CLASSES",
    "FileReport",
    "FlowSummary",
    "ReadReport",
    "ReadResult",
    "empty_flows",
    "iter_flow_batches",
    "parse_slice",
    "read_flows",
    "time_slice",
]
