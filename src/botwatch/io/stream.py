"""Cutting a file's decompressed bytes into chunks of whole lines and parsing them.

Both the whole-file path and the batch path go through :func:`iter_chunks`.
They differ only in chunk size and in whether decompression runs ahead in a
background thread.
"""

from __future__ import annotations

import collections
import itertools
import os
import queue
import threading
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor

import numpy as np

from botwatch.errors import ConfigError, FlowFormatError
from botwatch.io.binetflow import BinetflowReader
from botwatch.io.chunks import Chunk, FormatReader
from botwatch.io.detect import FORMATS, detect_format
from botwatch.io.lines import newline_offsets
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
    workers: int = 1,
) -> Iterator[tuple[FormatReader, str, Chunk]]:
    """Yield (reader, compression, chunk) for consecutive chunks of one file.

    A chunk ends after ``chunk_lines`` lines or at the last line end within
    ``chunk_bytes`` bytes (a longer line makes a longer chunk). With
    ``workers`` above 1, a format whose reader allows it has that many chunks
    parsed at once in a thread pool. Chunks, and any error, still come in
    file order.

    Raises
    ------
    FlowFormatError
        For a missing or empty file, a directory, an unknown format or a
        truncated or corrupt compressed file.
    """
    compression, blocks = iter_blocks(path)
    if prefetch:
        blocks = _prefetch(blocks)
    pieces = _iter_pieces(str(path), blocks, format, timezone, chunk_lines, chunk_bytes)
    first = next(pieces, None)
    if first is None:
        return
    reader = first[0]
    pieces = itertools.chain([first], pieces)
    if workers > 1 and reader.parallel_chunks:
        chunks = _parse_in_parallel(reader, pieces, workers)
    else:
        chunks = _parse_in_order(reader, pieces)
    for chunk in chunks:
        yield reader, compression, chunk


def _parse_in_order(
    reader: FormatReader, pieces: Iterator[tuple[FormatReader, bytes]]
) -> Iterator[Chunk]:
    first_line = 1
    for _, data in pieces:
        chunk = reader.parse(data, first_line)
        yield chunk
        if chunk.newlines is not None:
            first_line += chunk.newlines
        else:
            first_line += data.count(b"\n")


def _parse_in_parallel(
    reader: FormatReader, pieces: Iterator[tuple[FormatReader, bytes]], workers: int
) -> Iterator[Chunk]:
    """Parse chunks in a thread pool and yield them in file order.

    polars releases the GIL while it works, so the threads use several
    cores. Headers are read here, in order, because they carry state from one
    chunk to the next. An error from cutting the file (a corrupt compressed
    stream, say) is raised only after the chunks before it, so the caller
    sees the same first error as when parsing in order.
    """
    first_line = 1
    pending: collections.deque[Future[Chunk]] = collections.deque()
    with ThreadPoolExecutor(workers, thread_name_prefix="botwatch-parse") as pool:
        try:
            while True:
                try:
                    _, data = next(pieces)
                    chunk_headers = reader.read_headers(data)
                except StopIteration:
                    break
                except Exception as err:  # noqa: BLE001 - raised after earlier chunks
                    while pending:
                        yield pending.popleft().result()
                    raise err
                # The worker reuses the newline offsets for its line bounds.
                newlines = newline_offsets(data)
                pending.append(
                    pool.submit(
                        reader.parse_lines, data, first_line, chunk_headers, newlines
                    )
                )
                first_line += len(newlines)
                if len(pending) >= workers:
                    yield pending.popleft().result()
            while pending:
                yield pending.popleft().result()
        finally:
            # Reached early when the caller stops reading or a chunk fails.
            for future in pending:
                future.cancel()


def _iter_pieces(
    name: str,
    blocks: Iterator[bytes],
    format: str | None,
    timezone: str,
    chunk_lines: int | None,
    chunk_bytes: int | None,
) -> Iterator[tuple[FormatReader, bytes]]:
    """Cut ``blocks`` into runs of whole lines; yield each with the file's reader.

    The reader is made from the first bytes with content. The last piece may
    lack a final newline, and an empty file with a header-less format still
    yields one empty piece so that its reader can report it.
    """
    reader: FormatReader | None = None
    buffer = b""
    # Blocks not yet joined to ``buffer``. Joining once per chunk copies each
    # byte once, where appending every block would copy the buffer each time.
    pending: list[bytes] = []
    pending_bytes = 0
    yielded = False
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
            yield reader, data
            yielded = True
    buffer = b"".join([buffer, *pending])
    if reader is None:
        if not buffer or buffer.isspace():
            raise FlowFormatError(
                f"{name}: file is empty (no header and no flows)", path=name
            )
        reader = _make_reader(buffer, name, format, timezone)
    if buffer or not yielded:
        yield reader, buffer


def _make_reader(
    head: bytes, path: str, format: str | None, timezone: str
) -> FormatReader:
    if format is None:
        format = detect_format(head[:_DETECT_BYTES], path)
    return _READERS[format](path, timezone)
