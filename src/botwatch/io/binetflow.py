"""Reader for Argus bidirectional flows (``.binetflow``) as published with CTU-13.

The header names the columns, so their order is taken from it. Required:
``StartTime, Dur, Proto, SrcAddr, Sport, Dir, DstAddr, Dport, State, TotPkts,
TotBytes, SrcBytes``; ``sTos``, ``dTos`` and ``Label`` may be absent. A header
line repeated further down (concatenated captures) is skipped, and a header
with other columns starts a new segment read with its own names.

Argus writes the ICMP type and code in ``Sport`` as hexadecimal ``0xCCTT``,
with the code in the high byte and the type in the low byte: ``0x0303`` is
type 3 code 3 (port unreachable). ``Dport`` then holds the ICMP id. Both ports
of an ICMP flow are stored as null.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import polars as pl

from botwatch.errors import FlowFormatError
from botwatch.io.chunks import FormatReader, Header, raw_name
from botwatch.io.fields import (
    ICMP_PROTOCOLS,
    Check,
    address_checks,
    map_distinct_columns,
    number_checks,
    parse_float,
    parse_int,
    parse_naive_time,
    parse_port,
    port_checks,
    port_or_null,
    strip_or_null,
    to_utc,
)
from botwatch.io.schema import argus_state_class, ctu_label_class

__all__ = ["BinetflowReader", "REQUIRED_COLUMNS"]

REQUIRED_COLUMNS: tuple[str, ...] = (
    "StartTime",
    "Dur",
    "Proto",
    "SrcAddr",
    "Sport",
    "Dir",
    "DstAddr",
    "Dport",
    "State",
    "TotPkts",
    "TotBytes",
    "SrcBytes",
)
HEADER_MARKER = b"StartTime"
# Argus writes "2011/08/16 10:01:46.972101". ISO dates with "-" and a "T"
# are accepted too (the text is normalised to the second format before it is
# tried), and the fraction of a second is optional.
TIME_FORMATS: tuple[str, ...] = ("%Y/%m/%d %H:%M:%S%.f", "%Y-%m-%d %H:%M:%S%.f")
# Argus's own layout with exactly six fraction digits. polars parses this
# fixed-width format several times faster than ``%.f``. Text it rejects goes
# through ``TIME_FORMATS``.
FIXED_WIDTH_TIME_FORMAT = "%Y/%m/%d %H:%M:%S.%6f"


def find_line_starts(data: bytes, prefix: bytes) -> list[int]:
    """Return the byte offsets of lines of ``data`` that start with ``prefix``."""
    offsets = [0] if data.startswith(prefix) else []
    needle = b"\n" + prefix
    position = data.find(needle)
    while position != -1:
        offsets.append(position + 1)
        position = data.find(needle, position + 1)
    return offsets


def header_at(data: bytes, offset: int, separator: str) -> list[str]:
    """Return the fields of the line starting at ``offset``, stripped."""
    end = data.find(b"\n", offset)
    line = data[offset : end if end != -1 else len(data)]
    text = line.decode("utf-8", errors="replace").rstrip("\r")
    return [field.strip() for field in text.split(separator)]


def _normalise_proto(text: str) -> str | None:
    return text.strip().lower() or None


def _state_class(text: str) -> str | None:
    state = strip_or_null(text)
    return argus_state_class(state) if state is not None else None


def _label_class(text: str) -> str | None:
    label = strip_or_null(text)
    return ctu_label_class(label) if label is not None else None


def _start_naive_time(frame: pl.DataFrame) -> pl.Series:
    """Parse the ``StartTime`` field of ``frame`` to naive datetimes."""
    return parse_naive_time(
        frame,
        raw_name("StartTime"),
        TIME_FORMATS,
        fixed_width=FIXED_WIDTH_TIME_FORMAT,
    )


@dataclass(frozen=True)
class _Plan:
    """Column stages and checks that convert the rows under one header.

    Each stage is one ``with_columns`` call that may use the columns of the
    stages before it. The stages start from the raw fields, ``_start_naive``
    and the columns mapped from distinct values (``proto``, ``direction``,
    ``state``, ``state_class``, ``label``, ``label_class``).
    """

    stages: list[list[pl.Expr]]
    checks: list[Check]


class BinetflowReader(FormatReader):
    """Reads CTU-13 style Argus binetflow text."""

    name = "binetflow"
    separator = ","
    # Apart from settings fixed at construction, parse_lines() reads only the
    # header passed in and the plan cache, whose entries depend on the header.
    parallel_chunks = True

    def header_lines(self, data: bytes) -> list[tuple[int, Header]]:
        # A header line is one with a "StartTime" field, in any column order.
        # The first line with content is the header in any case, so that a
        # header lacking StartTime is reported by name as incomplete.
        offsets = set()
        position = data.find(HEADER_MARKER)
        while position != -1:
            offset = data.rfind(b"\n", 0, position) + 1
            if "StartTime" in header_at(data, offset, self.separator):
                offsets.add(offset)
            position = data.find(HEADER_MARKER, position + 1)
        if self.header is None:
            content = re.search(rb"\S", data)
            if content is not None:
                offsets.add(data.rfind(b"\n", 0, content.start()) + 1)
        return [
            (offset, Header.simple(header_at(data, offset, self.separator)))
            for offset in sorted(offsets)
        ]

    def __init__(self, path: str, timezone: str) -> None:
        super().__init__(path, timezone)
        self._plans: dict[Header, _Plan] = {}

    def convert(
        self, frame: pl.DataFrame, header: Header
    ) -> tuple[pl.LazyFrame, list[Check]]:
        plan = self._plans.get(header)
        if plan is None:
            plan = self._plans[header] = self._plan(header)
        extra = [_start_naive_time(frame).alias("_start_naive")]
        if "Label" not in header.names:
            extra.append(pl.Series(raw_name("Label"), [None] * frame.height, pl.String))
        frame = frame.hstack(extra)
        mapped = map_distinct_columns(
            frame,
            {
                "proto": (raw_name("Proto"), _normalise_proto),
                "direction": (raw_name("Dir"), strip_or_null),
                "state": (raw_name("State"), strip_or_null),
                "state_class": (raw_name("State"), _state_class),
                "label": (raw_name("Label"), strip_or_null),
                "label_class": (raw_name("Label"), _label_class),
            },
        )
        # The rest runs lazily: apply_checks collects it together with the
        # checks, so polars evaluates all columns in one parallel query and
        # computes an expression used by several columns or checks once.
        lazy = frame.lazy().with_columns(mapped.values())
        for stage in plan.stages:
            lazy = lazy.with_columns(stage)
        return lazy, plan.checks

    def _plan(self, header: Header) -> _Plan:
        """Build the column expressions and checks for one header."""
        missing = [name for name in REQUIRED_COLUMNS if name not in header.names]
        if missing:
            raise FlowFormatError(
                f"{self.path}: binetflow header lacks required columns "
                f"{', '.join(missing)}; found {', '.join(header.names)}",
                path=self.path,
                column=missing[0],
            )

        def raw(name: str) -> pl.Expr:
            if name in header.names:
                return pl.col(raw_name(name))
            return pl.lit("", dtype=pl.String)

        first_stage = [
            parse_port(raw("Sport")).alias("_sport"),
            parse_port(raw("Dport")).alias("_dport"),
            to_utc(pl.col("_start_naive"), self.timezone).alias("start_time"),
        ]
        is_icmp = pl.col("proto").is_in(ICMP_PROTOCOLS)
        sport = pl.col("_sport")
        second_stage = [
            parse_float(raw("Dur")).alias("duration"),
            raw("SrcAddr").alias("src_addr"),
            port_or_null(pl.col("proto"), sport).alias("src_port"),
            raw("DstAddr").alias("dst_addr"),
            port_or_null(pl.col("proto"), pl.col("_dport")).alias("dst_port"),
            pl.when(is_icmp).then(sport % 256).cast(pl.Int16).alias("icmp_type"),
            pl.when(is_icmp)
            .then((sport // 256) % 256)
            .cast(pl.Int16)
            .alias("icmp_code"),
            pl.col("state_class").fill_null("other"),
            parse_int(raw("sTos")).alias("src_tos"),
            parse_int(raw("dTos")).alias("dst_tos"),
            parse_int(raw("TotPkts")).alias("packets"),
            parse_int(raw("TotBytes")).alias("bytes"),
            parse_int(raw("SrcBytes")).alias("src_bytes"),
        ]
        third_stage = [(pl.col("bytes") - pl.col("src_bytes")).alias("dst_bytes")]
        checks = [
            Check(
                "missing_value", "StartTime", raw("StartTime") == "", raw("StartTime")
            ),
            Check(
                "invalid_timestamp",
                "StartTime",
                pl.col("start_time").is_null(),
                raw("StartTime"),
            ),
            *number_checks(
                [("Dur", raw("Dur"), pl.col("duration"))],
                required=True,
                negative_reason="negative_duration",
            ),
            Check("missing_value", "Proto", pl.col("proto").is_null(), raw("Proto")),
            *address_checks([("SrcAddr", raw("SrcAddr")), ("DstAddr", raw("DstAddr"))]),
            *port_checks(
                pl.col("proto"),
                [
                    ("Sport", raw("Sport"), pl.col("_sport")),
                    ("Dport", raw("Dport"), pl.col("_dport")),
                ],
            ),
            *number_checks(
                [
                    ("sTos", raw("sTos"), pl.col("src_tos")),
                    ("dTos", raw("dTos"), pl.col("dst_tos")),
                ],
                required=False,
            ),
            Check(
                "invalid_number",
                "sTos",
                pl.col("src_tos") > 255,
                raw("sTos"),
            ),
            Check(
                "invalid_number",
                "dTos",
                pl.col("dst_tos") > 255,
                raw("dTos"),
            ),
            *number_checks(
                [
                    ("TotPkts", raw("TotPkts"), pl.col("packets")),
                    ("TotBytes", raw("TotBytes"), pl.col("bytes")),
                    ("SrcBytes", raw("SrcBytes"), pl.col("src_bytes")),
                ],
                required=True,
            ),
            Check(
                "bytes_mismatch",
                "SrcBytes",
                pl.col("dst_bytes") < 0,
                raw("SrcBytes"),
            ),
        ]
        return _Plan([first_stage, second_stage, third_stage], checks)
