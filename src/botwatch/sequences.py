"""Attribute flows to monitored hosts and cut each host's flows into sequences.

A *sequence* is ``seq_len`` consecutive flows of one host in time order. Hosts
are cut with a ``stride``; the last sequence of a host is aligned to its last
flow so that every flow lies in at least one sequence. A host with fewer than
``seq_len`` flows gets one sequence, padded at the end and masked.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
import polars as pl

from botwatch.errors import ConfigError

__all__ = [
    "SequenceIndex",
    "assign_hosts",
    "build_sequences",
    "parse_home_net",
]

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def parse_home_net(text: str | Iterable[str] | None) -> list[str] | None:
    """Parse ``CIDR[,CIDR...]`` (or a list of CIDRs) into normalised strings.

    Returns None for "every source host". Raises ConfigError naming the bad
    network.
    """
    if text is None:
        return None
    parts = text.split(",") if isinstance(text, str) else list(text)
    networks = []
    for part in parts:
        part = part.strip()
        if not part:
            continue
        try:
            networks.append(str(ipaddress.ip_network(part, strict=False)))
        except ValueError as err:
            msg = (
                f"invalid home network {part!r}: {err}; give CIDR blocks such as "
                "147.32.0.0/16 or 2001:db8::/32, separated by commas"
            )
            raise ConfigError(msg, field="home_net") from err
    if not networks:
        msg = f"the home network {text!r} names no network"
        raise ConfigError(msg, field="home_net")
    return networks


def _ipv4_to_int(addresses: pl.Series) -> pl.Series:
    """Return dotted-quad IPv4 addresses as integers; null for anything else."""
    octets = (
        addresses.str.extract_groups(r"^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$")
        .struct.unnest()
        .select(pl.all().cast(pl.UInt64, strict=False))
    )
    first, second, third, fourth = (pl.col(name) for name in octets.columns)
    value = first * (1 << 24) + second * (1 << 16) + third * (1 << 8) + fourth
    valid = pl.max_horizontal(pl.all()) <= 255
    return octets.select(pl.when(valid).then(value).otherwise(None)).to_series()


def _in_networks(addresses: pl.Series, networks: Sequence[Network]) -> pl.Series:
    """Return a boolean Series: address lies in one of the networks.

    IPv4 addresses are compared as integers in one vectorised pass; IPv6 and
    other text go through the ``ipaddress`` module once per distinct value.
    """
    as_int = _ipv4_to_int(addresses)
    inside = pl.Series(np.zeros(addresses.len(), dtype=bool))
    for network in networks:
        if network.version == 4:
            low = int(network.network_address)
            high = int(network.broadcast_address)
            inside = inside | ((as_int >= low) & (as_int <= high)).fill_null(False)
    others = addresses.filter(as_int.is_null()).unique().drop_nulls()
    if others.len() > 0:
        lookup = {}
        for text in others.to_list():
            try:
                address = ipaddress.ip_address(text)
            except ValueError:
                lookup[text] = False
                continue
            lookup[text] = any(address in network for network in networks)
        inside = inside | addresses.replace_strict(
            lookup, default=False, return_dtype=pl.Boolean
        ).fill_null(False)
    return inside


def assign_hosts(flows: pl.DataFrame, home_net: Sequence[str] | None) -> pl.DataFrame:
    """Add a ``host`` column: the monitored host a flow belongs to.

    Without a home network every flow belongs to its source host. With one, a
    flow belongs to its source host when the source lies inside, else to its
    destination host when the destination lies inside (so inbound traffic is
    context in that host's sequence), else to no host (``host`` is null).
    """
    if home_net is None:
        return flows.with_columns(host=pl.col("src_addr"))
    networks = [ipaddress.ip_network(n, strict=False) for n in home_net]
    src_inside = _in_networks(flows.get_column("src_addr"), networks)
    dst_inside = _in_networks(flows.get_column("dst_addr"), networks)
    return flows.with_columns(
        host=pl.when(src_inside)
        .then(pl.col("src_addr"))
        .when(dst_inside)
        .then(pl.col("dst_addr"))
        .otherwise(None)
    )


@dataclass(frozen=True)
class SequenceIndex:
    """Where each sequence lies in a host-ordered flow table.

    ``order`` maps positions in host order to rows of the original table
    (shape [N]); ``starts`` and ``lengths`` give each sequence's first
    position in host order and its number of real flows (shape [S]).
    """

    order: np.ndarray
    starts: np.ndarray
    lengths: np.ndarray
    seq_len: int

    @property
    def n_sequences(self) -> int:
        """Number of sequences."""
        return int(self.starts.shape[0])

    def positions(self, sequences: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Return host-order positions [S, T] and the mask [S, T] of sequences.

        Padded slots point at the sequence's first flow and are masked out.
        """
        offsets = np.arange(self.seq_len)
        mask = offsets[None, :] < self.lengths[sequences, None]
        positions = self.starts[sequences, None] + np.where(mask, offsets[None, :], 0)
        return positions, mask


def build_sequences(flows: pl.DataFrame, *, seq_len: int, stride: int) -> SequenceIndex:
    """Cut the flows of every non-null ``host`` into sequences.

    ``flows`` needs ``host`` and ``start_time`` columns. Flows with a null host
    are in no sequence.
    """
    if seq_len < 1 or stride < 1:
        msg = f"seq_len and stride must be at least 1, got {seq_len} and {stride}"
        raise ConfigError(msg, field="seq_len")
    ordered = (
        flows.select("host", "start_time")
        .with_row_index("_row")
        .filter(pl.col("host").is_not_null())
        .sort("host", "start_time", "_row")
    )
    order = ordered.get_column("_row").to_numpy().astype(np.int64)
    counts = ordered.group_by("host", maintain_order=True).len().get_column("len")
    counts = counts.to_numpy().astype(np.int64)
    host_starts = (
        np.concatenate([[0], np.cumsum(counts)[:-1]]) if counts.size else counts
    )
    starts_list = []
    lengths_list = []
    for first, count in zip(host_starts.tolist(), counts.tolist(), strict=True):
        if count <= seq_len:
            starts_list.append(np.array([first]))
            lengths_list.append(np.array([count]))
            continue
        offsets = np.arange(0, count - seq_len + 1, stride)
        if offsets[-1] != count - seq_len:
            offsets = np.append(offsets, count - seq_len)
        starts_list.append(first + offsets)
        lengths_list.append(np.full(offsets.shape[0], seq_len))
    if starts_list:
        starts = np.concatenate(starts_list).astype(np.int64)
        lengths = np.concatenate(lengths_list).astype(np.int64)
    else:
        starts = np.zeros(0, dtype=np.int64)
        lengths = np.zeros(0, dtype=np.int64)
    return SequenceIndex(order=order, starts=starts, lengths=lengths, seq_len=seq_len)
