"""Readers for Zeek ``conn.log``: tab-separated text and JSON lines.

Column order comes from the ``#fields`` line, never from a fixed list. The
labeled logs of IoT-23 and Stratosphere add ``label`` and ``detailed-label``
(or ``detailedlabel``); IoT-23 joins its last three columns with three spaces
instead of tabs, which the ``#fields`` line shows the same way. The ``#close``
footer may be missing.

Mapping to the flow table:

- ``ts`` is seconds since the Unix epoch (UTC). It is taken as given even when
  it counts from the start of a capture (some published logs start at 19.98),
  so ``timezone`` does not apply. JSON logs may also give ISO 8601 text.
- ``duration``, packet and byte counts that Zeek left unset (``-``, or absent
  in JSON) mean it did not measure them, and become 0.0 and 0.
- ``src_bytes`` and ``dst_bytes`` are ``orig_ip_bytes`` and
  ``resp_ip_bytes`` (IP-level, like Argus). A log without IP byte columns
  gives ``orig_bytes`` and ``resp_bytes`` (payload) instead. ``bytes`` is
  their sum, and ``packets`` is ``orig_pkts + resp_pkts``.
- For ICMP, Zeek stores the type in ``id.orig_p`` and the code in
  ``id.resp_p``; those become ``icmp_type`` and ``icmp_code``.
- ``label`` is ``label|detailed-label`` (``Malicious|C&C``), or the label
  alone when the detailed label is unset or empty.
"""

from __future__ import annotations

import json
import re

import polars as pl

from botwatch.errors import FlowFormatError
from botwatch.io.binetflow import find_line_starts
from botwatch.io.chunks import REJECT_SCHEMA, Chunk, FormatReader, Header, raw_name
from botwatch.io.fields import (
    ICMP_PROTOCOLS,
    Check,
    address_checks,
    apply_checks,
    map_distinct,
    number_checks,
    parse_float,
    parse_int,
    parse_naive_time,
    port_checks,
    strip_or_null,
)
from botwatch.io.lines import LINE, LINE_LENGTH, field_name, split_lines
from botwatch.io.schema import FLOW_SCHEMA, zeek_label_class, zeek_state_class

__all__ = ["REQUIRED_COLUMNS", "ZeekJsonReader", "ZeekReader", "zeek_flows"]

REQUIRED_COLUMNS: tuple[str, ...] = (
    "ts",
    "id.orig_h",
    "id.orig_p",
    "id.resp_h",
    "id.resp_p",
    "proto",
    "conn_state",
)
DETAILED_LABEL_COLUMNS: tuple[str, ...] = (
    "detailed-label",
    "detailedlabel",
    "detailed_label",
)
# Latest instant a Datetime("us") column is asked to hold: 9999-12-31T23:59:59.
_MAX_EPOCH_US = 253_402_300_799_999_999
_EPOCH_TEXT = r"^[0-9]+(\.[0-9]+)?$"
_ISO_FORMATS: tuple[str, ...] = ("%Y-%m-%d %H:%M:%S%.f",) * 2


def _unescape(text: str) -> str:
    """Decode the ``\\xHH`` escapes Zeek writes in ``#separator``."""
    return re.sub(r"\\x([0-9a-fA-F]{2})", lambda m: chr(int(m.group(1), 16)), text)


def _epoch_microseconds(ts: pl.Expr) -> pl.Expr:
    """Convert epoch-seconds text to integer microseconds, exactly when possible."""
    parts = ts.str.split_exact(".", 1)
    seconds = parts.struct.field("field_0").cast(pl.Int64, strict=False)
    fraction = (
        parts.struct.field("field_1")
        .fill_null("")
        .str.slice(0, 6)
        .str.pad_end(6, "0")
        .cast(pl.Int64, strict=False)
    )
    exact = seconds * 1_000_000 + fraction
    # Text such as "1.5e9" is still a number; it goes through a float.
    approximate = (ts.cast(pl.Float64, strict=False) * 1e6).round()
    approximate = pl.when(approximate.abs() < 9e18).then(approximate).cast(pl.Int64)
    return pl.when(ts.str.contains(_EPOCH_TEXT)).then(exact).otherwise(approximate)


def zeek_flows(
    frame: pl.DataFrame, names: tuple[str, ...], path: str
) -> tuple[pl.DataFrame, list[Check]]:
    """Add flow columns to a frame of raw Zeek fields (null where unset).

    Shared by the text and JSON readers. Returns the frame and its checks.
    """
    missing = [name for name in REQUIRED_COLUMNS if name not in names]
    if missing:
        raise FlowFormatError(
            f"{path}: Zeek conn log lacks required fields {', '.join(missing)}; "
            f"found {', '.join(names)}",
            path=path,
            column=missing[0],
        )
    absent = [
        pl.lit(None, dtype=pl.String).alias(raw_name(name))
        for name in (
            "duration",
            "orig_pkts",
            "resp_pkts",
            "orig_ip_bytes",
            "resp_ip_bytes",
            "orig_bytes",
            "resp_bytes",
            "label",
            *DETAILED_LABEL_COLUMNS,
        )
        if name not in names
    ]
    frame = frame.with_columns(absent)
    detailed = next(
        (n for n in DETAILED_LABEL_COLUMNS if n in names), DETAILED_LABEL_COLUMNS[0]
    )
    if "orig_ip_bytes" in names:
        src_name, dst_name = "orig_ip_bytes", "resp_ip_bytes"
    else:
        src_name, dst_name = "orig_bytes", "resp_bytes"

    def raw(name: str) -> pl.Expr:
        return pl.col(raw_name(name))

    def text(name: str) -> pl.Expr:
        # Checks compare with "" for "no value"; unset counts as no value.
        return raw(name).fill_null("")

    ts_us = _epoch_microseconds(text("ts"))
    iso = parse_naive_time(
        frame.with_columns(
            text("ts")
            .str.strip_suffix("Z")
            .str.replace("T", " ", literal=True)
            .alias("_iso")
        ),
        "_iso",
        _ISO_FORMATS,
    )
    frame = frame.with_columns(
        pl.when(ts_us.is_between(0, _MAX_EPOCH_US))
        .then(ts_us)
        .cast(pl.Datetime("us"))
        .fill_null(pl.lit(iso))
        .dt.replace_time_zone("UTC")
        .alias("start_time"),
        map_distinct(
            frame, raw_name("proto"), lambda v: v.strip().lower() or None
        ).alias("proto"),
        parse_int(text("id.orig_p")).alias("_orig_p"),
        parse_int(text("id.resp_p")).alias("_resp_p"),
        parse_float(text("duration")).alias("_duration"),
        *[
            parse_int(text(name)).alias(f"_{name}")
            for name in ("orig_pkts", "resp_pkts", src_name, dst_name)
        ],
        map_distinct(frame, raw_name("conn_state"), strip_or_null).alias("state"),
    )
    label = raw("label").str.strip_chars().replace("", None)
    detail = raw(detailed).str.strip_chars().replace("", None)
    is_icmp = pl.col("proto").is_in(ICMP_PROTOCOLS)
    frame = frame.with_columns(
        pl.col("_duration").fill_null(0.0).alias("duration"),
        raw("id.orig_h").alias("src_addr"),
        raw("id.resp_h").alias("dst_addr"),
        pl.when(~is_icmp).then(pl.col("_orig_p")).cast(pl.Int32).alias("src_port"),
        pl.when(~is_icmp).then(pl.col("_resp_p")).cast(pl.Int32).alias("dst_port"),
        pl.when(is_icmp).then(pl.col("_orig_p")).cast(pl.Int16).alias("icmp_type"),
        pl.when(is_icmp).then(pl.col("_resp_p")).cast(pl.Int16).alias("icmp_code"),
        pl.lit(None, dtype=pl.String).alias("direction"),
        pl.lit(None, dtype=pl.Int16).alias("src_tos"),
        pl.lit(None, dtype=pl.Int16).alias("dst_tos"),
        (pl.col("_orig_pkts").fill_null(0) + pl.col("_resp_pkts").fill_null(0)).alias(
            "packets"
        ),
        pl.col(f"_{src_name}").fill_null(0).alias("src_bytes"),
        pl.col(f"_{dst_name}").fill_null(0).alias("dst_bytes"),
        pl.when(detail.is_null())
        .then(label)
        .otherwise(pl.concat_str([label, detail], separator="|"))
        .alias("label"),
    )
    frame = frame.with_columns(
        (pl.col("src_bytes") + pl.col("dst_bytes")).alias("bytes"),
        map_distinct(frame, "state", zeek_state_class)
        .fill_null("other")
        .alias("state_class"),
        map_distinct(frame, "label", zeek_label_class).alias("label_class"),
    )
    checks = [
        Check("missing_value", "ts", text("ts") == "", raw("ts")),
        Check("invalid_timestamp", "ts", pl.col("start_time").is_null(), raw("ts")),
        Check("missing_value", "proto", pl.col("proto").is_null(), raw("proto")),
        *address_checks(
            [("id.orig_h", text("id.orig_h")), ("id.resp_h", text("id.resp_h"))]
        ),
        *port_checks(
            pl.col("proto"),
            [
                ("id.orig_p", text("id.orig_p"), pl.col("_orig_p")),
                ("id.resp_p", text("id.resp_p"), pl.col("_resp_p")),
            ],
        ),
        *number_checks(
            [("duration", text("duration"), pl.col("_duration"))],
            required=False,
            negative_reason="negative_duration",
        ),
        *number_checks(
            [
                (name, text(name), pl.col(f"_{name}"))
                for name in ("orig_pkts", "resp_pkts", src_name, dst_name)
            ],
            required=False,
        ),
    ]
    return frame, checks


class ZeekReader(FormatReader):
    """Reads tab-separated Zeek logs with ``#`` header lines."""

    name = "zeek"
    separator = "\t"

    def __init__(self, path: str, timezone: str) -> None:
        super().__init__(path, timezone)
        self.unset_field = "-"
        self.empty_field = "(empty)"

    def start_chunk(self, data: bytes) -> None:
        for offset in find_line_starts(data[:65536], b"#"):
            end = data.find(b"\n", offset)
            line = data[offset : end if end != -1 else len(data)]
            text = line.decode("utf-8", errors="replace").rstrip("\r")
            if text.startswith("#separator"):
                separator = _unescape(text[len("#separator") :].strip())
                if len(separator.encode()) != 1:
                    raise FlowFormatError(
                        f"{self.path}: unsupported Zeek separator {separator!r}; "
                        "only one-byte separators are supported",
                        path=self.path,
                    )
                self.separator = separator
            elif text.startswith("#unset_field" + self.separator):
                self.unset_field = text.split(self.separator, 1)[1]
            elif text.startswith("#empty_field" + self.separator):
                self.empty_field = text.split(self.separator, 1)[1]
            elif text.startswith("#path" + self.separator):
                log_path = text.split(self.separator, 1)[1].strip()
                if log_path != "conn":
                    raise FlowFormatError(
                        f"{self.path}: a Zeek {log_path!r} log, not a conn log; "
                        "only conn.log holds flows",
                        path=self.path,
                    )

    def header_lines(self, data: bytes) -> list[tuple[int, Header]]:
        headers = []
        for offset in find_line_starts(data, b"#fields"):
            end = data.find(b"\n", offset)
            line = data[offset : end if end != -1 else len(data)]
            text = line.decode("utf-8", errors="replace").rstrip("\r")
            groups = []
            joiner = ""
            for field in text.split(self.separator)[1:]:
                names = tuple(field.split())
                if len(names) > 1:
                    # IoT-23 joins the last columns with runs of spaces.
                    joiner = re.search(r"\s+", field.strip()).group(0)
                groups.append(names or ("",))
            # The first field is the "#fields" tag itself, which data rows lack.
            headers.append((offset, Header(tuple(groups), joiner)))
        return headers

    def non_flow_rows(self, frame: pl.DataFrame) -> pl.Expr:
        return pl.col(field_name(0)).str.starts_with("#")

    def convert(
        self, frame: pl.DataFrame, header: Header
    ) -> tuple[pl.DataFrame, list[Check]]:
        unset = self.unset_field
        empty = self.empty_field
        frame = frame.with_columns(
            pl.when(pl.col(name) == unset)
            .then(None)
            .when(pl.col(name) == empty)
            .then(pl.lit(""))
            .otherwise(pl.col(name))
            .alias(name)
            for name in (raw_name(n) for n in header.names)
            if name in frame.columns
        )
        return zeek_flows(frame, header.names, self.path)


def _json_text(value: object) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "T" if value else "F"
    if isinstance(value, list):
        return ",".join(str(item) for item in value)
    return str(value)


class ZeekJsonReader(FormatReader):
    """Reads Zeek conn logs written as one JSON object per line.

    NOTE: each line is decoded with :func:`json.loads` in Python, so this
    reader runs at a few hundred thousand lines per second, well below the
    text readers.
    """

    name = "zeek-json"

    def header_lines(self, data: bytes) -> list[tuple[int, Header]]:
        return []

    def convert(
        self, frame: pl.DataFrame, header: Header
    ) -> tuple[pl.DataFrame, list[Check]]:
        return zeek_flows(frame, header.names, self.path)

    def parse(self, data: bytes, first_line: int) -> Chunk:
        separator = next(
            (
                chr(b)
                for b in range(1, 32)
                if bytes([b]) not in data and b not in (10, 13)
            ),
            None,
        )
        if separator is None:
            raise FlowFormatError(
                f"{self.path}: every control character occurs in the file, "
                "so it cannot be split into lines for JSON decoding",
                path=self.path,
            )
        raw = split_lines(data, separator=separator, n_fields=1, first_line=first_line)

        lines = raw.frame.filter(pl.col(field_name(0)).str.strip_chars() != "")
        records: list[dict[str, object] | None] = []
        for text in lines.get_column(field_name(0)).to_list():
            try:
                record = json.loads(text)
            except ValueError:
                record = None
            records.append(record if isinstance(record, dict) else None)

        names = sorted({key for record in records if record for key in record})
        columns = {
            raw_name(name): pl.Series(
                [_json_text(r.get(name)) if r else None for r in records],
                dtype=pl.String,
            )
            for name in names
        }
        frame = lines.select(LINE, LINE_LENGTH).with_columns(
            pl.Series("_bad_json", [r is None for r in records], dtype=pl.Boolean),
            pl.Series(
                "_bad_utf8",
                [
                    ("\ufffd" in text) and not raw.valid_utf8
                    for text in lines.get_column(field_name(0)).to_list()
                ],
                dtype=pl.Boolean,
            ),
            *[series.alias(name) for name, series in columns.items()],
        )
        if frame.height and not any(records):
            # No line decoded: keep the columns the checks need so every line
            # is rejected as invalid JSON rather than failing on missing fields.
            names = list(REQUIRED_COLUMNS)
            frame = frame.with_columns(
                pl.lit(None, dtype=pl.String).alias(raw_name(n)) for n in names
            )
        elif frame.height == 0:
            return Chunk(
                pl.DataFrame(schema=FLOW_SCHEMA), pl.DataFrame(schema=REJECT_SCHEMA), 0
            )

        converted, checks = zeek_flows(frame, tuple(names), self.path)
        checks = [
            Check("invalid_utf8", None, pl.col("_bad_utf8"), pl.lit(None)),
            Check("invalid_json", None, pl.col("_bad_json"), pl.lit(None)),
            *checks,
        ]
        passed, failed = apply_checks(converted, checks)
        flows, rejected = self.finish(passed, failed, raw)
        return Chunk(flows, rejected, frame.height)
