"""Format detection from a file's first lines."""

from __future__ import annotations

import json

from botwatch.errors import FlowFormatError

__all__ = ["FORMATS", "detect_format"]

# Formats that ``format=`` and ``--format`` accept.
FORMATS: tuple[str, ...] = ("binetflow", "zeek", "zeek-json", "nfdump")


def _first_content_line(head: bytes) -> bytes:
    for line in head.splitlines():
        if line.strip():
            return line.strip()
    return b""


def detect_format(head: bytes, path: str) -> str:
    """Return the format of a file from its first bytes (decompressed).

    Raises
    ------
    FlowFormatError
        When the file is empty or its first line matches no known format.
    """
    line = _first_content_line(head)
    if not line:
        raise FlowFormatError(
            f"{path}: file is empty (no header and no flows)", path=path
        )
    if line.startswith((b"#separator", b"#fields")):
        return "zeek"
    if line.startswith(b"{"):
        try:
            record = json.loads(line)
        except ValueError:
            record = None
        if isinstance(record, dict) and ("ts" in record or "id.orig_h" in record):
            return "zeek-json"
    fields = [field.strip() for field in line.split(b",")]
    if b"StartTime" in fields and b"SrcAddr" in fields:
        return "binetflow"
    if fields[:3] == [b"ts", b"te", b"td"]:
        return "nfdump"
    shown = line[:80].decode("utf-8", errors="replace")
    raise FlowFormatError(
        f"{path}: unknown flow format; the first line {shown!r} is not an Argus "
        "binetflow header, a Zeek conn.log header or JSON record, or an nfdump "
        f"CSV header. Pass --format ({', '.join(FORMATS)}) if the file is one "
        "of them",
        path=path,
    )
