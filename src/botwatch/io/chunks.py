"""The per-chunk reading loop shared by the text formats.

A chunk is a run of whole lines of one file. Each format supplies a
:class:`FormatReader`: where its header lines are, which other lines are not
flows (comments, footers), and how a segment of raw text fields becomes flow
columns plus the checks that reject rows. Header state carries from one chunk
to the next, so a file can be read whole or in batches with the same result.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import polars as pl

from botwatch.errors import FlowFormatError
from botwatch.io.fields import Check, apply_checks
from botwatch.io.lines import (
    LINE,
    LINE_LENGTH,
    RawLines,
    field_count_ok,
    field_name,
    has_replacement,
    split_lines,
)
from botwatch.io.schema import FLOW_SCHEMA

__all__ = [
    "REJECT_SCHEMA",
    "Chunk",
    "ChunkHeaders",
    "FormatReader",
    "Header",
    "raw_name",
]

# Columns of the rejected-row table: where, why, and the line as written.
REJECT_SCHEMA: dict[str, pl.DataType] = {
    "file": pl.String(),
    "line": pl.Int64(),
    "reason": pl.String(),
    "column": pl.String(),
    "value": pl.String(),
    "text": pl.String(),
}


def raw_name(field: str) -> str:
    """Return the raw table's name for a header field, kept apart from flow columns."""
    return f"raw:{field}"


@dataclass(frozen=True)
class Header:
    """Field names from a header line, grouped by separated field.

    Each entry of ``fields`` contains the names in one separated field: one name
    as a rule, several when the file joins fields with ``joiner`` instead of
    the separator (IoT-23 logs join their last three columns with three
    spaces).
    """

    fields: tuple[tuple[str, ...], ...]
    joiner: str = ""

    @property
    def n_fields(self) -> int:
        """Number of fields as the separator splits a line."""
        return len(self.fields)

    @property
    def names(self) -> tuple[str, ...]:
        """All field names in order."""
        return tuple(name for group in self.fields for name in group)

    @classmethod
    def simple(cls, names: Sequence[str]) -> Header:
        """Return a header with one name per separated field."""
        return cls(tuple((name,) for name in names))


@dataclass
class Chunk:
    """Output of one chunk: accepted flows, rejected rows and the count of rows read.

    ``newlines`` is the number of ``\\n`` bytes in the chunk's data, when the
    parser counted them, so the caller need not count them again.
    """

    flows: pl.DataFrame
    rejected: pl.DataFrame
    rows_read: int
    newlines: int | None = None


@dataclass(frozen=True)
class ChunkHeaders:
    """Header lines found in one chunk, and the header in force before it.

    ``headers`` contains (byte offset, header) pairs in file order, and
    ``incoming`` is the header of the chunks before, or None before any.
    """

    incoming: Header | None
    headers: list[tuple[int, Header]]


class FormatReader(ABC):
    """Reads the chunks of one file in one format, keeping header state."""

    name: str = ""
    separator: str = ","
    # True when parse_lines() neither reads nor changes state that
    # start_chunk() or an earlier chunk sets, so chunks may be parsed in
    # parallel after read_headers() has seen them in order.
    parallel_chunks: bool = False

    def __init__(self, path: str, timezone: str) -> None:
        self.path = path
        self.timezone = timezone
        self.header: Header | None = None

    # -- format hooks -----------------------------------------------------

    @abstractmethod
    def header_lines(self, data: bytes) -> list[tuple[int, Header]]:
        """Return (byte offset, header) for each header line in ``data``."""

    def start_chunk(self, data: bytes) -> None:  # noqa: B027 - optional hook
        """Read any state that the first lines of a chunk set."""

    def non_flow_rows(self, frame: pl.DataFrame) -> pl.Expr:
        """Return an expression, true on lines that are not flows (besides headers)."""
        return pl.lit(False)

    @abstractmethod
    def convert(
        self, frame: pl.DataFrame, header: Header
    ) -> tuple[pl.DataFrame | pl.LazyFrame, list[Check]]:
        """Add the flow columns to ``frame`` (raw fields under :func:`raw_name`).

        Returns the frame, eager or lazy, and the checks that reject rows, in
        priority order. A lazy frame is collected together with the checks.
        """

    # -- the loop ---------------------------------------------------------

    def parse(self, data: bytes, first_line: int) -> Chunk:
        """Parse whole lines ``data`` whose first line is ``first_line`` of the file."""
        return self.parse_lines(data, first_line, self.read_headers(data))

    def read_headers(self, data: bytes) -> ChunkHeaders:
        """Find the header lines of ``data`` and carry the header state past it.

        The header state carries from one chunk to the next, so chunks must
        pass through this step in file order.
        """
        self.start_chunk(data)
        headers = self.header_lines(data)
        incoming = self.header
        if headers:
            self.header = headers[-1][1]
        return ChunkHeaders(incoming, headers)

    def parse_lines(
        self,
        data: bytes,
        first_line: int,
        chunk_headers: ChunkHeaders,
        newlines: np.ndarray | None = None,
    ) -> Chunk:
        """Parse ``data`` with the headers that :meth:`read_headers` found in it.

        ``newlines``, when given, must be ``newline_offsets(data)``. When
        :attr:`parallel_chunks` is true, this leaves the reader unchanged, so
        several chunks may be parsed at once in different threads.
        """
        headers = chunk_headers.headers
        incoming = chunk_headers.incoming
        widest = max(
            [h.n_fields for _, h in headers]
            + ([incoming.n_fields] if incoming else [1])
        )
        raw = split_lines(
            data,
            separator=self.separator,
            n_fields=widest + 1,
            first_line=first_line,
            newlines=newlines,
        )
        header_rows = np.searchsorted(raw.starts, [offset for offset, _ in headers])
        frame = raw.frame
        blank = (pl.col(LINE_LENGTH) == 0) | (
            (pl.col(field_name(0)).str.strip_chars() == "")
            & (pl.col(field_name(0)).str.len_bytes() == pl.col(LINE_LENGTH))
        )
        # A null (unknown) result skips the line, as a filter would drop it.
        skip_rows = blank | self.non_flow_rows(frame)
        skip = frame.select(skip_rows.fill_null(True)).to_series()
        skip = skip.to_numpy(writable=True)
        skip[header_rows] = True
        # Row numbers (in the chunk) of the flow lines, in order.
        flow_rows = np.flatnonzero(~skip)
        if len(flow_rows) < frame.height:
            frame = frame.filter(pl.Series(~skip))

        # Segments: runs of rows under one header, cut where a header changes.
        bounds: list[tuple[int, Header | None]] = [(0, incoming)]
        for row, (_, header) in zip(header_rows.tolist(), headers, strict=True):
            if header != bounds[-1][1]:
                bounds.append((row, header))
        # A segment's rows are contiguous in ``frame``, so it is a zero-copy slice.
        offsets = np.searchsorted(flow_rows, [start for start, _ in bounds]).tolist()
        offsets.append(frame.height)
        flows_parts, rejected_parts = [], []
        for index, (_, header) in enumerate(bounds):
            offset, stop = offsets[index], offsets[index + 1]
            if stop <= offset:
                continue
            segment = frame.slice(offset, stop - offset)
            if header is None:
                first = int(segment[LINE][0])
                raise FlowFormatError(
                    f"{self.path}, line {first}: flow record before any "
                    f"{self.name} header line; the file must start with its "
                    "header (use --format to choose another format)",
                    path=self.path,
                    line=first,
                )
            flows, rejected = self._parse_segment(segment, header, raw)
            flows_parts.append(flows)
            rejected_parts.append(rejected)
        flows = (
            pl.concat(flows_parts, rechunk=False)
            if flows_parts
            else pl.DataFrame(schema=FLOW_SCHEMA)
        )
        rejected = (
            pl.concat(rejected_parts)
            if rejected_parts
            else pl.DataFrame(schema=REJECT_SCHEMA)
        )
        return Chunk(flows, rejected, frame.height, raw.newlines)

    def _parse_segment(
        self, segment: pl.DataFrame, header: Header, raw: RawLines
    ) -> tuple[pl.DataFrame, pl.DataFrame]:
        n = header.n_fields
        # Both checks read the fields by position and as written, so they run
        # before renaming and before convert() rewrites any raw field.
        segment = segment.with_columns(
            (~field_count_ok(n)).alias("_wrong_count"),
            (has_replacement(n + 1) if not raw.valid_utf8 else pl.lit(False)).alias(
                "_bad_utf8"
            ),
        )
        checks = [
            Check("invalid_utf8", None, pl.col("_bad_utf8"), pl.lit(None)),
            Check(
                "wrong_field_count",
                None,
                pl.col("_wrong_count"),
                pl.lit(f"expected {n} fields"),
            ),
        ]
        renamed, expansions, joined_checks = self._name_fields(header)
        segment = segment.rename(renamed)
        if expansions:
            segment = segment.with_columns(expansions)
        converted, format_checks = self.convert(segment, header)
        flows, failed = apply_checks(
            converted,
            [*checks, *joined_checks, *format_checks],
            columns=self.flow_columns(),
        )
        return flows, self.describe_rejected(failed, raw)

    def flow_columns(self) -> list[pl.Expr]:
        """Return the expressions that select the flow table from converted rows."""
        sources = {"file": pl.lit(self.path), "line": pl.col(LINE)}
        return [
            sources.get(name, pl.col(name)).cast(dtype).alias(name)
            for name, dtype in FLOW_SCHEMA.items()
        ]

    def finish(
        self, passed: pl.DataFrame, failed: pl.DataFrame, raw: RawLines
    ) -> tuple[pl.DataFrame, pl.DataFrame]:
        """Select the flow columns of passed rows and describe the failed ones."""
        flows = passed.select(self.flow_columns())
        return flows, self.describe_rejected(failed, raw)

    def describe_rejected(self, failed: pl.DataFrame, raw: RawLines) -> pl.DataFrame:
        """Return the rejected-row table (``REJECT_SCHEMA``) for ``failed`` rows."""
        rejected = failed.select(
            pl.lit(self.path).alias("file"),
            pl.col(LINE).alias("line"),
            pl.col("_reason").alias("reason"),
            pl.col("_column").alias("column"),
            pl.col("_value").alias("value"),
        )
        texts = [raw.text(line) for line in rejected["line"].to_list()]
        return rejected.with_columns(pl.Series("text", texts, dtype=pl.String))

    @staticmethod
    def _name_fields(
        header: Header,
    ) -> tuple[dict[str, str], list[pl.Expr], list[Check]]:
        """Return the renames, the split of joined fields and their checks."""
        renamed: dict[str, str] = {}
        expansions: list[pl.Expr] = []
        checks: list[Check] = []
        for index, group in enumerate(header.fields):
            if len(group) == 1:
                renamed[field_name(index)] = raw_name(group[0])
                continue
            joined = f"_joined{index}"
            renamed[field_name(index)] = joined
            parts = pl.col(joined).str.split(header.joiner)
            for offset, name in enumerate(group):
                part = parts.list.get(offset, null_on_oob=True).fill_null("")
                expansions.append(part.str.strip_chars().alias(raw_name(name)))
            checks.append(
                Check(
                    "wrong_field_count",
                    None,
                    parts.list.len() != len(group),
                    pl.lit(f"expected {len(group)} fields joined by {header.joiner!r}"),
                )
            )
        return renamed, expansions, checks
