"""Small flow tables with the canonical schema, built in tests."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import polars as pl

from botwatch.io.schema import FLOW_SCHEMA

_T0 = datetime(2011, 8, 16, 10, 0, 0, tzinfo=UTC)

_DEFAULTS: dict[str, Any] = {
    "duration": 0.5,
    "proto": "tcp",
    "src_addr": "10.0.0.1",
    "src_port": 40000,
    "direction": "->",
    "dst_addr": "192.0.2.1",
    "dst_port": 80,
    "icmp_type": None,
    "icmp_code": None,
    "state": "FSPA_FSPA",
    "state_class": "closed",
    "src_tos": 0,
    "dst_tos": 0,
    "packets": 10,
    "bytes": 2000,
    "src_bytes": 500,
    "dst_bytes": 1500,
    "label": None,
    "label_class": None,
    "file": "crafted.binetflow",
}


def make_flows(rows: list[dict[str, Any]]) -> pl.DataFrame:
    """Build a flow table; each row gives ``seconds`` after a fixed start plus
    any column that differs from a plain web flow."""
    records = []
    for line, row in enumerate(rows, start=2):
        record = dict(_DEFAULTS)
        record.update({k: v for k, v in row.items() if k != "seconds"})
        record["start_time"] = _T0 + timedelta(seconds=float(row.get("seconds", line)))
        record["line"] = line
        records.append(record)
    return pl.DataFrame(records, schema=FLOW_SCHEMA)


# A detector small enough to train in a few seconds on two cores, yet large
# enough to learn a real network's common traffic.
TINY_DETECTOR = {
    "hidden_size": 32,
    "latent_dim": 8,
    "epochs": 3,
    "max_train_sequences": 3000,
    "n_latent_samples": 2,
    "home_net": ("147.32.0.0/16",),
    "seed": 7,
}
