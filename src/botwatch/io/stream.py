"""Cutting a file's decompressed bytes into chunks of whole lines and parsing them.

Both the whole-file path and the batch path go through :func:`iter_chunks`.
They differ only in chunk size and in whether decompression runs ahead in a
background thread.
"""

from __future__ import annotations

import os
import queue
import threading
from collections.abc import Iterator

import numpy as np

from botwatch.errors import ConfigError, FlowFormatError
from botwatch.io.binetflow import BinetflowReader
from botwatch.io.chunks import Chunk, FormatReader
from botwatch.io.detect import FORMATS, detect_format
from botwatch.io.nfdump import NfdumpReader
from botwatch.io.source import iter_blocks
from botwatch.io.zeek import ZeekJsonReader, ZeekReader

__all__ = ["check_options", "iter_chunks"]

_READERS: dict[str, type[FormatReader]] = {
    "binetflow": BinetflowReader,
    "zeek": ZeekReader,
    "zeek-json": ZeekJsonReader,
    "nfdump": NfdumpReader,
}
# Bytes looked at to detect the format.
_DETECT_BYTES = 65536
# Decompressed blocks that the background thread may hold ahead of the parser.
_PREFETCH_BLOCKS = 2


def check_options(format: str | None, timezone: str) -> None:
    """Raise ConfigError for an unknown format name or time zone."""
    import zoneinfo

    if format is not None and format not in FORMATS:
        raise ConfigError(
            f"unknown format {format!r}; choose one of {', '.join(FORMATS)} "
            "or leave it out to detect the format",
            field="format",
        )
    try:
        zoneinfo.ZoneInfo(timezone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError) as err:
        raise ConfigError(
            f"unknown time zone {timezone!r}; use an IANA name such as UTC or "
            "Europe/Prague",
            field="timezone",
        ) from err


def _prefetch(blocks: Iterator[bytes]) -> Iterator[bytes]:
    """Run ``blocks`` in a thread so decompression overlaps parsing.

    zlib, bz2 and lzma release the GIL while they work, so this uses a second
    core. Errors from the thread are raised here, in the caller's thread.
    """
    slots: queue.Queue[bytes | BaseException | None] = queue.Queue(_PREFETCH_BLOCKS)
    stop = threading.Event()

    def produce() -> None:
        try:
            for block in blocks:
                if stop.is_set():
                    return
                slots.put(block)
            slots.put(None)
        except BaseException as err:  # noqa: BLE001 - handed to the consumer
            slots.put(err)

    thread = threading.Thread(target=produce, name="botwatch-decompress", daemon=True)
    thread.start()
    try:
        while True:
            item = slots.get()
            if item is None:
                return
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        stop.set()
        # Unblock a producer waiting on a full queue so it can see ``stop``.
        while thread.is_alive():
            try:
                slots.get(timeout=0.05)
            except queue.Empty:
                pass


def _cut_after_lines(buffer: bytes, n_lines: int) -> int:
    """Return the offset just past the ``n_lines``-th newline, or 0 if fewer."""
    newlines = np.flatnonzero(np.frombuffer(buffer, dtype=np.uint8) == 10)
    if len(newlines) < n_lines:
        return 0
    return int(newlines[n_lines - 1]) + 1


def _cut_after_bytes(buffer: bytes, n_bytes: int) -> int:
    """Return the offset just past the last newline within the first ``n_bytes``."""
    if len(buffer) < n_bytes:
        return 0
    return buffer.rfind(b"\n", 0, n_bytes) + 1


def iter_chunks(
    path: str | os.PathLike[str],
    *,
    format: str | None,
    timezone: str,
    chunk_lines: int | None = None,
    chunk_bytes: int | None = None,
    prefetch: bool = False,
) -> Iterator[tuple[FormatReader, str, Chunk]]:
    """Yield (reader, compression, chunk) for consecutive chunks of one file.

    A chunk ends after ``chunk_lines`` lines or at the last line end within
    ``chunk_bytes`` bytes (a longer line makes a longer chunk).

    Raises
    ------
    FlowFormatError
        For a missing or empty file, a directory, an unknown format or a
        truncated or corrupt compressed file.
    """
    name = str(path)
    compression, blocks = iter_blocks(path)
    if prefetch:
        blocks = _prefetch(blocks)
    reader: FormatReader | None = None
    buffer = b""
    # Blocks not yet joined to ``buffer``. Joining once per chunk copies each
    # byte once, where appending every block would copy the buffer each time.
    pending: list[bytes] = []
    pending_bytes = 0
    first_line = 1
    for block in blocks:
        pending.append(block)
        pending_bytes += len(block)
        if (
            reader is not None
            and chunk_bytes is not None
            and len(buffer) + pending_bytes < chunk_bytes
        ):
            continue  # not enough for a chunk of chunk_bytes yet
        buffer = b"".join([buffer, *pending])
        pending.clear()
        pending_bytes = 0
        if reader is None:
            if buffer.isspace() or b"\n" not in buffer:
                continue
            reader = _make_reader(buffer, name, format, timezone)
        while True:
            if chunk_lines is not None:
                cut = _cut_after_lines(buffer, chunk_lines)
            else:
                cut = _cut_after_bytes(buffer, chunk_bytes or len(buffer))
            if not cut:
                break
            data, buffer = buffer[:cut], buffer[cut:]
            chunk = reader.parse(data, first_line)
            yield reader, compression, chunk
            if chunk.newlines is not None:
                first_line += chunk.newlines
            else:
                first_line += data.count(b"\n")
    buffer = b"".join([buffer, *pending])
    if reader is None:
        if not buffer or buffer.isspace():
            raise FlowFormatError(
                f"{name}: file is empty (no header and no flows)", path=name
            )
        reader = _make_reader(buffer, name, format, timezone)
    if buffer or first_line == 1:
        yield reader, compression, reader.parse(buffer, first_line)


def _make_reader(
    head: bytes, path: str, format: str | None, timezone: str
) -> FormatReader:
    if format is None:
        format = detect_format(head[:_DETECT_BYTES], path)
    return _READERS[format](path, timezone)
