"""Reader for ``nfdump -o csv`` output (nfdump 1.6 and 1.7 layout).

The header starts ``ts,te,td,sa,da,sp,dp,pr,flg,fwd,stos,ipkt,ibyt,opkt,obyt``
and more columns follow, in the order the header gives. After the flows nfdump
appends a ``Summary`` line, a ``flows,bytes,packets,...`` line and its values.
Those lines, and any others up to the next header line, are not flows.

Mapping: ``ts`` (naive local time, so ``timezone`` applies), ``td`` seconds,
``pr`` lower-cased, ``flg`` TCP flags kept as ``state``, ``packets`` is
``ipkt + opkt`` and ``bytes`` is ``ibyt + obyt`` (``opkt`` and ``obyt`` are
zero or absent for one-way NetFlow). For ICMP nfdump packs type and code into
``dp`` as ``type * 256 + code``, or prints them as ``type.code``.
"""

from __future__ import annotations

import polars as pl

from botwatch.errors import FlowFormatError
from botwatch.io.binetflow import find_line_starts, header_at
from botwatch.io.chunks import FormatReader, Header, raw_name
from botwatch.io.fields import (
    ICMP_PROTOCOLS,
    Check,
    address_checks,
    map_distinct,
    number_checks,
    parse_float,
    parse_int,
    parse_naive_time,
    port_checks,
    port_or_null,
    strip_or_null,
    to_utc,
)
from botwatch.io.lines import field_name
from botwatch.io.schema import tcp_flags_state_class

__all__ = ["NfdumpReader", "REQUIRED_COLUMNS"]

REQUIRED_COLUMNS: tuple[str, ...] = (
    "ts",
    "td",
    "sa",
    "da",
    "sp",
    "dp",
    "pr",
    "ipkt",
    "ibyt",
)
HEADER_START = b"ts,te,"
FOOTER_START = "Summary"
# nfdump 1.6 writes whole seconds, 1.7 adds milliseconds.
TIME_FORMATS: tuple[str, ...] = ("%Y-%m-%d %H:%M:%S%.f", "%Y-%m-%d %H:%M:%S%.f")


class NfdumpReader(FormatReader):
    """Reads the CSV that ``nfdump -o csv`` prints."""

    name = "nfdump"
    separator = ","

    def __init__(self, path: str, timezone: str) -> None:
        super().__init__(path, timezone)
        self.in_footer = False

    def header_lines(self, data: bytes) -> list[tuple[int, Header]]:
        return [
            (offset, Header.simple(header_at(data, offset, self.separator)))
            for offset in find_line_starts(data, HEADER_START)
        ]

    def non_flow_rows(self, frame: pl.DataFrame) -> pl.Expr:
        # From a "Summary" line up to the next header line (or the end) the
        # lines are nfdump's totals. The state carries over to the next chunk.
        first = pl.col(field_name(0))
        marker = (
            pl.when(first == FOOTER_START)
            .then(True)
            .when((first == "ts") & (pl.col(field_name(1)) == "te"))
            .then(False)
            .otherwise(None)
        )
        footer = marker.forward_fill().fill_null(self.in_footer)
        states = frame.select(marker.alias("m")).get_column("m").drop_nulls()
        if len(states):
            self.in_footer = bool(states[-1])
        return footer | (first == "No matched flows")

    def convert(
        self, frame: pl.DataFrame, header: Header
    ) -> tuple[pl.DataFrame, list[Check]]:
        missing = [name for name in REQUIRED_COLUMNS if name not in header.names]
        if missing:
            raise FlowFormatError(
                f"{self.path}: nfdump CSV header lacks required columns "
                f"{', '.join(missing)}; found {', '.join(header.names)}",
                path=self.path,
                column=missing[0],
            )
        frame = frame.with_columns(
            pl.lit("", dtype=pl.String).alias(raw_name(name))
            for name in ("flg", "stos", "dtos", "opkt", "obyt")
            if name not in header.names
        )

        def raw(name: str) -> pl.Expr:
            return pl.col(raw_name(name))

        start_naive = parse_naive_time(frame, raw_name("ts"), TIME_FORMATS)
        dp = raw("dp")
        # "8.0" is ICMP type 8 code 0; a plain number packs type * 256 + code.
        dotted = dp.str.split_exact(".", 1)
        dotted_value = dotted.struct.field("field_0").cast(
            pl.Int64, strict=False
        ) * 256 + dotted.struct.field("field_1").cast(pl.Int64, strict=False)
        frame = frame.with_columns(
            to_utc(pl.lit(start_naive), self.timezone).alias("start_time"),
            map_distinct(
                frame, raw_name("pr"), lambda v: v.strip().lower() or None
            ).alias("proto"),
            parse_float(raw("td")).alias("duration"),
            parse_int(raw("sp")).alias("_sp"),
            pl.when(dp.str.contains(".", literal=True))
            .then(dotted_value)
            .otherwise(parse_int(dp))
            .alias("_dp"),
            parse_int(raw("stos")).alias("src_tos"),
            parse_int(raw("dtos")).alias("dst_tos"),
            parse_int(raw("ipkt")).alias("_ipkt"),
            parse_int(raw("ibyt")).alias("_ibyt"),
            parse_int(raw("opkt")).alias("_opkt"),
            parse_int(raw("obyt")).alias("_obyt"),
            map_distinct(frame, raw_name("flg"), strip_or_null).alias("state"),
        )
        is_icmp = pl.col("proto").is_in(ICMP_PROTOCOLS)
        frame = frame.with_columns(
            raw("sa").alias("src_addr"),
            raw("da").alias("dst_addr"),
            port_or_null(pl.col("proto"), pl.col("_sp")).alias("src_port"),
            port_or_null(pl.col("proto"), pl.col("_dp")).alias("dst_port"),
            pl.when(is_icmp)
            .then(pl.col("_dp") // 256)
            .cast(pl.Int16)
            .alias("icmp_type"),
            pl.when(is_icmp)
            .then(pl.col("_dp") % 256)
            .cast(pl.Int16)
            .alias("icmp_code"),
            pl.lit(None, dtype=pl.String).alias("direction"),
            (pl.col("_ipkt") + pl.col("_opkt").fill_null(0)).alias("packets"),
            (pl.col("_ibyt") + pl.col("_obyt").fill_null(0)).alias("bytes"),
            pl.col("_ibyt").alias("src_bytes"),
            pl.col("_obyt").fill_null(0).alias("dst_bytes"),
            pl.when(pl.col("proto") == "tcp")
            .then(map_distinct(frame, "state", tcp_flags_state_class))
            .otherwise(pl.lit("other"))
            .fill_null("other")
            .alias("state_class"),
            pl.lit(None, dtype=pl.String).alias("label"),
            pl.lit(None, dtype=pl.String).alias("label_class"),
        )
        checks = [
            Check("missing_value", "ts", raw("ts") == "", raw("ts")),
            Check("invalid_timestamp", "ts", pl.col("start_time").is_null(), raw("ts")),
            *number_checks(
                [("td", raw("td"), pl.col("duration"))],
                required=True,
                negative_reason="negative_duration",
            ),
            Check("missing_value", "pr", pl.col("proto").is_null(), raw("pr")),
            *address_checks([("sa", raw("sa")), ("da", raw("da"))]),
            *port_checks(
                pl.col("proto"),
                [("sp", raw("sp"), pl.col("_sp")), ("dp", raw("dp"), pl.col("_dp"))],
            ),
            *number_checks(
                [
                    ("stos", raw("stos"), pl.col("src_tos")),
                    ("dtos", raw("dtos"), pl.col("dst_tos")),
                ],
                required=False,
            ),
            *number_checks(
                [
                    ("ipkt", raw("ipkt"), pl.col("_ipkt")),
                    ("ibyt", raw("ibyt"), pl.col("_ibyt")),
                ],
                required=True,
            ),
            *number_checks(
                [
                    ("opkt", raw("opkt"), pl.col("_opkt")),
                    ("obyt", raw("obyt"), pl.col("_obyt")),
                ],
                required=False,
            ),
        ]
        return frame, checks
