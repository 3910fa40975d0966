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

Label classes (``label_class``), first matching rule wins:

- CTU binetflow ``Label``: contains ``Botnet`` -> ``botnet``; contains
  ``Normal`` or ``LEGITIMATE`` -> ``normal``; contains ``Background`` ->
  ``background``; anything else -> ``unknown``.
- Zeek ``label``: ``Malicious`` -> ``botnet``, ``Benign`` -> ``normal``,
  ``Background`` -> ``background``, anything else -> ``unknown``. The raw
  ``label`` keeps the detailed label after a bar, as in ``Malicious|C&C``.
- No label column, or an empty label: ``label`` and ``label_class`` are null.

``state_class`` follows the rules next to ``STATE_CLASSES`` below. Zeek
fields left unset (duration, packet and byte counts) become 0.0 and 0,
because Zeek did not measure them. docs/formats.md maps every field.
"""

from __future__ import annotations

import polars as pl

__all__ = [
    "FLOW_SCHEMA",
    "LABEL_CLASSES",
    "STATE_CLASSES",
    "argus_state_class",
    "ctu_label_class",
    "empty_flows",
    "tcp_flags_state_class",
    "zeek_label_class",
    "zeek_state_class",
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

# Normalised connection states, comparable between Argus, Zeek and nfdump.
# The rules live in the functions below; in short:
#   attempt      the source tried and got no reply (Zeek S0, RSTOS0; Argus S_,
#                INT, REQ, ECO; nfdump SYN without ACK)
#   rejected     the destination refused (Zeek REJ; Argus S_RA and any state
#                with only a SYN from the source and a RST back; ICMP
#                unreachable states UR*)
#   established  both sides spoke and the flow had not closed (Zeek S1; Argus
#                CON, ACC, RSP, ECR and TCP states such as SPA_SPA; nfdump ACK
#                without FIN or RST)
#   closed       a full exchange that ended normally (Zeek SF; Argus CLO and
#                TCP states with a FIN from both sides, such as FSPA_FSPA;
#                nfdump FIN)
#   reset        ended by a reset after data (Zeek RSTO, RSTR; Argus TCP states
#                with R on either side, such as SRPA_FSPA; nfdump RST)
#   partial      a half-open or one-sided exchange (Zeek SH, SHR, S2, S3, OTH,
#                RSTRH; Argus TCP states with a FIN from one side only or with
#                one side silent, such as FSPA_SPA or A_)
#   other        anything not above: ICMP other than echo and unreachable,
#                ARP, non-TCP nfdump flows, unknown strings
STATE_CLASSES: tuple[str, ...] = (
    "attempt",
    "rejected",
    "established",
    "closed",
    "reset",
    "partial",
    "other",
)

ZEEK_STATE_CLASSES: dict[str, str] = {
    "S0": "attempt",
    "RSTOS0": "attempt",
    "REJ": "rejected",
    "S1": "established",
    "SF": "closed",
    "RSTO": "reset",
    "RSTR": "reset",
    "SH": "partial",
    "SHR": "partial",
    "S2": "partial",
    "S3": "partial",
    "OTH": "partial",
    "RSTRH": "partial",
}

# Argus states of flows other than TCP (UDP, ICMP, ARP, ...).
ARGUS_STATE_CLASSES: dict[str, str] = {
    "INT": "attempt",
    "REQ": "attempt",
    "ECO": "attempt",
    "CON": "established",
    "ACC": "established",
    "RSP": "established",
    "ECR": "established",
    "CLO": "closed",
    "RST": "reset",
}


def argus_state_class(state: str) -> str:
    """Return the state class of an Argus ``State`` value.

    TCP states are written ``SRC_DST``: the TCP flags seen from the source,
    then from the destination (S SYN, A ACK, P PSH, F FIN, R RST, U URG, E and
    C ECN).
    """
    if "_" not in state:
        if state.startswith("UR"):
            return "rejected"
        return ARGUS_STATE_CLASSES.get(state, "other")
    source, _, destination = state.partition("_")
    if "R" in destination and "A" not in source and "S" in source:
        return "rejected"
    if "R" in source or "R" in destination:
        return "reset"
    if "F" in source and "F" in destination:
        return "closed"
    if not destination and "S" in source and "A" not in source:
        return "attempt"
    if "F" in source or "F" in destination or not source or not destination:
        return "partial"
    return "established"


def zeek_state_class(state: str) -> str:
    """Return the state class of a Zeek ``conn_state`` value."""
    return ZEEK_STATE_CLASSES.get(state, "other")


def tcp_flags_state_class(flags: str) -> str:
    """Return the state class of an nfdump TCP flags field such as ``.AP.SF``."""
    if "R" in flags:
        return "reset"
    if "F" in flags:
        return "closed"
    if "S" in flags and "A" not in flags:
        return "attempt"
    if "A" in flags:
        return "established"
    return "other"


# Label classes. A raw label is mapped by the first rule that matches:
#   CTU binetflow ``Label``: contains "Botnet" -> botnet; contains "Normal" or
#     "LEGITIMATE" -> normal; contains "Background" -> background; else unknown.
#     The match is case-sensitive, as in the published CTU-13 counts.
#   Zeek ``label`` (IoT-23, Stratosphere): "Malicious" -> botnet, "Benign" ->
#     normal, "Background" -> background, else unknown (case-insensitive).
#     The raw label keeps the detailed label after a bar: ``Malicious|C&C``.
#   No label column, or an empty label: label and label_class are null.
LABEL_CLASSES: tuple[str, ...] = ("botnet", "normal", "background", "unknown")

ZEEK_LABEL_CLASSES: dict[str, str] = {
    "malicious": "botnet",
    "benign": "normal",
    "background": "background",
}


def ctu_label_class(label: str) -> str:
    """Return the label class of a CTU label such as ``flow=From-Botnet-V47``."""
    if "Botnet" in label:
        return "botnet"
    if "Normal" in label or "LEGITIMATE" in label:
        return "normal"
    if "Background" in label:
        return "background"
    return "unknown"


def zeek_label_class(label: str) -> str:
    """Return the label class of a Zeek label, given raw (``Malicious|C&C``) or not."""
    base = label.partition("|")[0].strip().lower()
    return ZEEK_LABEL_CLASSES.get(base, "unknown")


def empty_flows() -> pl.DataFrame:
    """Return a flow table with no rows and the canonical schema."""
    return pl.DataFrame(schema=FLOW_SCHEMA)
