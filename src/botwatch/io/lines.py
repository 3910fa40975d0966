"""Split decompressed bytes into a table of raw text fields, one row per line.

Every reader starts here, so line numbers are counted once and the same way
for all formats. With quoting turned off, polars' CSV reader returns exactly one
row per ``\\n``-terminated line, blank lines included. This module checks that
against its own count of newlines.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl

from botwatch.errors import FlowFormatError

__all__ = [
    "LINE",
    "LINE_LENGTH",
    "RawLines",
    "field_count_ok",
    "field_name",
    "has_replacement",
    "newline_offsets",
    "split_lines",
]

# Column names added to the raw table. They start with an underscore so that
# they cannot clash with a field name taken from a header.
LINE = "_line"
LINE_LENGTH = "_length"
REPLACEMENT_CHARACTER = "\ufffd"


def field_name(index: int) -> str:
    """Return the raw table's name for the field at ``index`` (0-based)."""
    return f"_f{index}"


@dataclass
class RawLines:
    """The lines of one chunk of a file, split into text fields.

    ``frame`` has the String columns ``_f0`` … ``_f{n-1}``, ``_line`` (1-based
    line number in the file) and ``_length`` (bytes in the line without its
    ``\\n`` or ``\\r\\n`` ending). A field missing from a short line reads as
    an empty string.
    """

    frame: pl.DataFrame
    data: bytes
    starts: np.ndarray
    ends: np.ndarray
    first_line: int
    valid_utf8: bool

    @property
    def newlines(self) -> int:
        """Number of ``\\n`` bytes in ``data``."""
        unterminated = bool(self.data) and self.data[-1] != 10
        return len(self.ends) - unterminated

    def text(self, line: int) -> str:
        """Return the text of ``line`` (a line number in the file)."""
        index = line - self.first_line
        raw = self.data[self.starts[index] : self.ends[index]]
        return raw.decode("utf-8", errors="replace")


def newline_offsets(data: bytes) -> np.ndarray:
    """Return the byte offsets of the ``\\n`` bytes in ``data``."""
    return np.flatnonzero(np.frombuffer(data, dtype=np.uint8) == 10)


def _line_bounds(
    data: bytes, newlines: np.ndarray | None
) -> tuple[np.ndarray, np.ndarray]:
    buffer = np.frombuffer(data, dtype=np.uint8)
    if newlines is None:
        newlines = newline_offsets(data)
    ends = newlines
    if data and data[-1] != 10:
        ends = np.append(newlines, len(data))
    starts = np.empty_like(ends)
    if len(ends):
        starts[0] = 0
        starts[1:] = ends[:-1] + 1
    # polars drops the \r of a \r\n line ending, so the length does too.
    carriage = np.zeros(len(ends), dtype=bool)
    nonempty = ends > starts
    carriage[nonempty] = buffer[ends[nonempty] - 1] == 13
    return starts, ends - carriage


def _is_valid_utf8(data: bytes) -> bool:
    if data.isascii():
        return True
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def split_lines(
    data: bytes,
    *,
    separator: str,
    n_fields: int,
    first_line: int = 1,
    newlines: np.ndarray | None = None,
) -> RawLines:
    """Split ``data`` into ``n_fields`` text fields per line.

    Fields beyond ``n_fields`` are dropped, so callers that check field counts
    ask for one more field than the header names. Undecodable bytes become
    U+FFFD, and ``valid_utf8`` is False when any were found. ``newlines``,
    when given, must be ``newline_offsets(data)``; passing it saves a scan.
    """
    starts, ends = _line_bounds(data, newlines)
    valid_utf8 = _is_valid_utf8(data)
    schema = {field_name(i): pl.String() for i in range(n_fields)}
    if not data:
        frame = pl.DataFrame(schema=schema)
    else:
        frame = pl.read_csv(
            data,
            has_header=False,
            schema=schema,
            separator=separator,
            quote_char=None,
            truncate_ragged_lines=True,
            missing_columns="insert",
            extra_columns="ignore",
            empty_string_is_null=False,
            encoding="utf8" if valid_utf8 else "utf8-lossy",
            raise_if_empty=False,
        )
    if frame.height != len(starts):
        # Quoting is off, so this would mean polars split lines differently
        # from this module, and every line number after it would be wrong.
        raise FlowFormatError(
            f"found {len(starts):,} lines but the CSV parser returned "
            f"{frame.height:,} rows; line numbers cannot be trusted"
        )
    frame = frame.with_columns(
        pl.Series(LINE, np.arange(first_line, first_line + len(starts))),
        pl.Series(LINE_LENGTH, (ends - starts).astype(np.int64)),
    )
    return RawLines(frame, data, starts, ends, first_line, valid_utf8)


def field_count_ok(n_fields: int) -> pl.Expr:
    """Return an expression that is true where a line has exactly ``n_fields``.

    The raw table must hold at least ``n_fields + 1`` fields. A line with
    ``n_fields`` fields is as long as its fields plus ``n_fields - 1``
    separators, and any missing or extra field breaks that equality, even an
    empty one.
    """
    lengths = [pl.col(field_name(i)).str.len_bytes() for i in range(n_fields + 1)]
    return (pl.sum_horizontal(lengths) + (n_fields - 1)) == pl.col(LINE_LENGTH)


def has_replacement(n_fields: int) -> pl.Expr:
    """Return an expression that is true where a field contains U+FFFD."""
    hits = [
        pl.col(field_name(i)).str.contains(REPLACEMENT_CHARACTER, literal=True)
        for i in range(n_fields)
    ]
    return pl.any_horizontal(hits)
