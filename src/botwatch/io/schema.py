"""The canonical flow table that every reader produces.

Each reader maps its format's fields onto these columns once, here in ``io``;
nothing downstream sees per-format names.

Columns, types and units:

============== ======================= ==============================================
column         dtype                   meaning
============== ======================= ==============================================
start_time     Datetime(us, UTC)       flow start
duration       Float64                 seconds, >= 0
proto          String                  transport protocol, lower case (tcp, udp,
                                       icmp, ...)
src_addr       String                  source IP address (IPv4 or IPv6 text)
src_port       Int32                   source port; null for ICMP and when unset
direction      String                  Argus ``Dir`` as given, stripped (``->``,
                                       ``<->``, ``?>``, ...); null for other formats
dst_addr       String                  destination IP address
dst_port       Int32                   destination port; null for ICMP and unset
icmp_type      Int16                   ICMP type for ICMP flows, else null
icmp_code      Int16                   ICMP code for ICMP flows, else null
state          String                  connection state as given (Argus ``State``,
                                       Zeek ``conn_state``)
state_class    String                  normalised state, one of ``STATE_CLASSES``
src_tos        Int16                   source type of service; null when empty
dst_tos        Int16                   destination type of service; null when empty
packets        Int64                   packets in both directions
bytes          Int64                   bytes in both directions
src_bytes      Int64                   bytes sent by the source
dst_bytes      Int64                   bytes sent by the destination
label          String                  raw label as published; null without labels
label_class    String                  one of ``LABEL_CLASSES``; null without labels
file           String                  input file the row came from
line           Int64                   1-based line number in that file
============== ======================= ==============================================
"""

from __future__ import annotations

import polars as pl

__all__ = [
    "FLOW_SCHEMA",
    "LABEL_CLASSES",
    "STATE_CLASSES",
    "empty_flows",
]

FLOW_SCHEMA: dict[str, pl.DataType] = {
    "start_time": pl.Datetime("us", "UTC"),
    "duration": pl.Float64(),
    "proto": pl.String(),
    "src_addr": pl.String(),
    "src_port": pl.Int32(),
    "direction": pl.String(),
    "dst_addr": pl.String(),
    "dst_port": pl.Int32(),
    "icmp_type": pl.Int16(),
    "icmp_code": pl.Int16(),
    "state": pl.String(),
    "state_class": pl.String(),
    "src_tos": pl.Int16(),
    "dst_tos": pl.Int16(),
    "packets": pl.Int64(),
    "bytes": pl.Int64(),
    "src_bytes": pl.Int64(),
    "dst_bytes": pl.Int64(),
    "label": pl.String(),
    "label_class": pl.String(),
    "file": pl.String(),
    "line": pl.Int64(),
}

LABEL_CLASSES: tuple[str, ...] = ("botnet", "normal", "background", "unknown")

# Normalised connection states, comparable between Argus and Zeek:
#   attempt      the source tried and got no answer (Zeek S0, Argus S_, INT)
#   rejected     the destination refused (Zeek REJ, Argus S_RA, ICMP unreachable)
#   established  both sides spoke and the flow had not closed (Zeek S1, Argus CON)
#   closed       a full exchange that ended normally (Zeek SF, Argus FSPA_FSPA)
#   reset        ended by a reset after data (Zeek RSTO/RSTR, Argus *R*)
#   partial      a half-open or one-sided exchange (Zeek SH, SHR, S2, S3, OTH)
#   other        anything not above, including ICMP and unknown strings
STATE_CLASSES: tuple[str, ...] = (
    "attempt",
    "rejected",
    "established",
    "closed",
    "reset",
    "partial",
    "other",
)


def empty_flows() -> pl.DataFrame:
    """Return a flow table with no rows and the canonical schema."""
    return pl.DataFrame(schema=FLOW_SCHEMA)
