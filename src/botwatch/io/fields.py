"""Vectorised field parsing and the checks that reject rows, shared by readers.

A reader turns raw text columns into typed columns with non-strict casts, then
lists :class:`Check` objects. The first check a row fails gives its rejection
reason, the source column and the offending text.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import polars as pl

__all__ = [
    "ICMP_PROTOCOLS",
    "PORT_PROTOCOLS",
    "REASONS",
    "Check",
    "address_checks",
    "apply_checks",
    "collect",
    "map_distinct",
    "map_distinct_columns",
    "number_checks",
    "parse_float",
    "parse_int",
    "parse_naive_time",
    "parse_port",
    "port_checks",
    "port_or_null",
    "strip_or_null",
    "to_utc",
]

# Rejection reasons, with the phrase used in error messages.
REASONS: dict[str, str] = {
    "invalid_utf8": "undecodable bytes (not UTF-8)",
    "wrong_field_count": "wrong number of fields",
    "missing_value": "missing value",
    "invalid_timestamp": "invalid or impossible timestamp",
    "invalid_number": "invalid number",
    "negative_duration": "negative duration",
    "negative_count": "negative count",
    "invalid_port": "invalid port",
    "invalid_address": "invalid IP address",
    "invalid_json": "invalid JSON object",
    "bytes_mismatch": "source bytes greater than total bytes",
}

# Protocols whose "ports" carry ICMP type and code instead.
ICMP_PROTOCOLS: tuple[str, ...] = ("icmp", "ipv6-icmp", "icmp6", "icmpv6")
# Protocols with real 16-bit ports. For any other protocol a port field that
# does not fit 16 bits (such as an ESP SPI) is stored as null, not rejected.
PORT_PROTOCOLS: tuple[str, ...] = (
    "tcp",
    "udp",
    "sctp",
    "dccp",
    "udplite",
    "udt",
    "rtp",
    "rtcp",
)

_MAX_PORT = 65535

# Dotted IPv4 with octets up to 255, or text made of hex digits, dots and at
# least one colon (IPv6, possibly with a %zone suffix).
_OCTET = r"(25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])"
ADDRESS_PATTERN = (
    rf"^(({_OCTET}\.){{3}}{_OCTET}"
    r"|[0-9A-Fa-f.]*:[0-9A-Fa-f:.]*(%[0-9A-Za-z_.\-]+)?)$"
)


# polars 2 made the streaming engine the default for LazyFrame.collect. The
# queries here cover one chunk that is already in memory, and the in-memory
# engine plans them faster and ran them about 5% faster (polars 2.1, CTU-13
# scenario 6). In polars 1, "auto" is the in-memory engine.
_ENGINE = "in-memory" if int(pl.__version__.split(".")[0]) >= 2 else "auto"


def collect(lazy: pl.LazyFrame) -> pl.DataFrame:
    """Run ``lazy`` with the in-memory engine."""
    return lazy.collect(engine=_ENGINE)


@dataclass(frozen=True)
class Check:
    """One rule a row must meet.

    ``failed`` is true where the row breaks the rule (null counts as passing),
    ``column`` names the field as the file names it, and ``value`` is the text
    to report.
    """

    reason: str
    column: str | None
    failed: pl.Expr
    value: pl.Expr


def apply_checks(
    frame: pl.DataFrame | pl.LazyFrame,
    checks: Sequence[Check],
    *,
    columns: Sequence[pl.Expr] | None = None,
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Split ``frame`` into the rows that pass every check and those that fail.

    The failing rows get ``_reason``, ``_column`` and ``_value`` from the first
    check they fail. ``columns``, when given, selects the columns of the
    passing rows. They are computed in the same query as the checks, so a
    lazy ``frame`` is evaluated once for all of them.

    Most files have no bad rows, so the first query only finds out which rows
    fail. The reasons are worked out in a second query over those rows alone,
    and only when there are any.
    """
    lazy = frame.lazy()
    flags = [check.failed.fill_null(False) for check in checks]
    bad = pl.any_horizontal(flags) if flags else pl.lit(False)
    selected = [pl.all()] if columns is None else list(columns)
    result = collect(lazy.select(*selected, bad.alias("_bad")))
    bad_rows = result.get_column("_bad")
    if not bad_rows.any():
        no_reason = pl.lit(None, dtype=pl.String)
        failed_rows = lazy.clear().with_columns(
            no_reason.alias("_reason"),
            no_reason.alias("_column"),
            no_reason.alias("_value"),
        )
        return result.drop("_bad"), collect(failed_rows)
    passed = result.filter(~bad_rows).drop("_bad")
    failed = lazy.filter(pl.lit(bad_rows))
    flag_names = [f"_check{i}" for i in range(len(checks))]
    reason: pl.Expr = pl.lit(None, dtype=pl.String)
    column: pl.Expr = pl.lit(None, dtype=pl.String)
    value: pl.Expr = pl.lit(None, dtype=pl.String)
    # Build the chains from the last check to the first, so the first check a
    # row fails is the outermost branch and wins.
    for name, check in reversed(list(zip(flag_names, checks, strict=True))):
        hit = pl.col(name)
        reason = pl.when(hit).then(pl.lit(check.reason)).otherwise(reason)
        column = pl.when(hit).then(pl.lit(check.column)).otherwise(column)
        value = pl.when(hit).then(check.value.cast(pl.String)).otherwise(value)
    failed_rows = (
        failed.with_columns(
            flag.alias(name) for flag, name in zip(flags, flag_names, strict=True)
        )
        .with_columns(
            reason.alias("_reason"), column.alias("_column"), value.alias("_value")
        )
        .drop(flag_names)
    )
    return passed, collect(failed_rows)


def parse_int(text: pl.Expr) -> pl.Expr:
    """Parse decimal integer text to Int64; empty or invalid text gives null."""
    return text.cast(pl.Int64, strict=False)


def parse_float(text: pl.Expr) -> pl.Expr:
    """Parse decimal text to Float64; empty or invalid text gives null."""
    return text.cast(pl.Float64, strict=False)


def parse_port(text: pl.Expr) -> pl.Expr:
    """Parse a decimal or ``0x`` hexadecimal port field to Int64."""
    is_hex = text.str.starts_with("0x") | text.str.starts_with("0X")
    hexadecimal = text.str.slice(2).str.to_integer(base=16, strict=False)
    decimal = text.str.to_integer(base=10, strict=False)
    return pl.when(is_hex).then(hexadecimal).otherwise(decimal)


def port_checks(
    proto: pl.Expr, names_and_values: Sequence[tuple[str, pl.Expr, pl.Expr]]
) -> list[Check]:
    """Return checks for port fields given as (column name, text, parsed value).

    Text that is not a number fails, and so does a value above 65535 on a
    protocol with real ports or on ICMP (whose field packs type and code).
    """
    limited = proto.is_in(PORT_PROTOCOLS + ICMP_PROTOCOLS)
    checks = []
    for name, text, value in names_and_values:
        bad_text = (text != "") & value.is_null()
        out_of_range = (value < 0) | ((value > _MAX_PORT) & limited)
        checks.append(Check("invalid_port", name, bad_text | out_of_range, text))
    return checks


def port_or_null(proto: pl.Expr, value: pl.Expr) -> pl.Expr:
    """Return the port as Int32, or null for ICMP and for values over 16 bits."""
    keep = ~proto.is_in(ICMP_PROTOCOLS) & value.is_between(0, _MAX_PORT)
    return pl.when(keep).then(value).otherwise(None).cast(pl.Int32)


def to_utc(naive: pl.Expr, timezone: str) -> pl.Expr:
    """Interpret naive datetimes in ``timezone`` and convert them to UTC.

    On a daylight-saving change, an ambiguous local time takes the earlier
    instant and a local time that never existed becomes null (and is rejected).
    """
    if timezone == "UTC":
        return naive.dt.replace_time_zone("UTC")
    local = naive.dt.replace_time_zone(
        timezone, ambiguous="earliest", non_existent="null"
    )
    return local.dt.convert_time_zone("UTC")


def map_distinct(
    frame: pl.DataFrame, column: str, function: Callable[[str], str | None]
) -> pl.Expr:
    """Map each distinct value of ``column`` through ``function`` in Python.

    Flow files repeat a few hundred distinct protocols, states and labels over
    millions of rows, so mapping the distinct values is cheap and keeps the
    rules in plain Python. When ``function`` changes no value, the column is
    used as it is, which saves a pass over the rows.
    """
    distinct = frame.get_column(column).unique().drop_nulls().to_list()
    return _mapping_expr(column, distinct, function)


def map_distinct_columns(
    frame: pl.DataFrame,
    functions: dict[str, tuple[str, Callable[[str], str | None]]],
) -> dict[str, pl.Expr]:
    """Return :func:`map_distinct` for each ``alias: (column, function)``.

    The distinct values of all columns are found in one query, which polars
    runs in parallel.
    """
    columns = list(dict.fromkeys(column for column, _ in functions.values()))
    distinct = frame.select(
        pl.col(column).unique().drop_nulls().implode() for column in columns
    ).row(0, named=True)
    return {
        alias: _mapping_expr(column, distinct[column], function).alias(alias)
        for alias, (column, function) in functions.items()
    }


def _mapping_expr(
    column: str, distinct: list[str], function: Callable[[str], str | None]
) -> pl.Expr:
    mapping = {value: function(value) for value in distinct}
    if all(key == value for key, value in mapping.items()):
        return pl.col(column)
    return pl.col(column).replace_strict(mapping, default=None, return_dtype=pl.String)


def strip_or_null(text: str) -> str | None:
    """Return ``text`` without surrounding white space, or None when nothing is left."""
    return text.strip() or None


def parse_naive_time(
    frame: pl.DataFrame,
    column: str,
    formats: Sequence[str],
    *,
    fixed_width: str | None = None,
) -> pl.Series:
    """Parse ``column`` with the first format, then retry failures with the others.

    The retries see the text stripped, with ``/`` replaced by ``-`` and the
    first ``T`` by a space. Only the rows that the earlier formats could not
    parse are parsed again, so a file in the first format pays for one pass.

    ``fixed_width``, when given, is tried before everything else. It must be a
    format that only accepts text that the first format parses to the same
    value, written with fixed-width fields (such as ``%6f`` in place of
    ``%.f``), because polars parses those several times faster.
    """
    text = frame.get_column(column)
    attempts = [(time_format, False) for time_format in formats[:1]]
    attempts += [(time_format, True) for time_format in formats[1:]]
    if fixed_width is not None:
        attempts.insert(0, (fixed_width, False))
    first_format, _ = attempts[0]
    parsed = _to_datetime(text, first_format, normalise=False)
    for time_format, normalise in attempts[1:]:
        failed = parsed.is_null() & (text != "")
        if not failed.any():
            break
        rows = failed.arg_true()
        retry = _to_datetime(text.gather(rows), time_format, normalise=normalise)
        parsed = parsed.scatter(rows, retry)
    return parsed


def _to_datetime(text: pl.Series, time_format: str, *, normalise: bool) -> pl.Series:
    if normalise:
        text = (
            text.str.strip_chars()
            .str.replace_all("/", "-", literal=True)
            .str.replace("T", " ", literal=True)
        )
    # Timestamps are mostly distinct, so caching parsed values costs more than
    # it saves.
    return text.str.to_datetime(time_format, strict=False, time_unit="us", cache=False)


def number_checks(
    names_and_values: Sequence[tuple[str, pl.Expr, pl.Expr]],
    *,
    required: bool,
    negative_reason: str | None = "negative_count",
) -> list[Check]:
    """Return the missing, invalid and negative checks for numeric fields."""
    checks = []
    for name, text, value in names_and_values:
        if required:
            checks.append(Check("missing_value", name, text == "", text))
        invalid = (text != "") & (value.is_null() | ~value.cast(pl.Float64).is_finite())
        checks.append(Check("invalid_number", name, invalid, text))
        if negative_reason is not None:
            checks.append(Check(negative_reason, name, value < 0, text))
    return checks


def address_checks(names_and_texts: Sequence[tuple[str, pl.Expr]]) -> list[Check]:
    """Return the missing and invalid checks for IP address fields."""
    checks = []
    for name, text in names_and_texts:
        checks.append(Check("missing_value", name, text == "", text))
        invalid = (text != "") & ~text.str.contains(ADDRESS_PATTERN)
        checks.append(Check("invalid_address", name, invalid, text))
    return checks
