"""Per-flow feature encoding, fitted on training flows and saved with the model.

Each flow becomes ``len(NUMERIC)`` numeric values and ``len(CATEGORICAL)``
category codes.

Numeric features (``log1p`` of the raw value, then standardised with the mean and
standard deviation of the training flows):

- ``duration`` in seconds, ``packets``, ``bytes``, ``src_bytes``, ``dst_bytes``;
- bytes per packet;
- inter-arrival time: seconds since the previous flow of the same host (0 for a
  host's first flow). Bots are periodic, so this carries C&C beacons and bursts.

Standardised values are clipped to +-``CLIP_STD`` so that one extreme flow
cannot dominate a sequence's likelihood.

Categorical features, each with code 0 meaning "unknown": a value not seen in
training, or seen fewer than ``min_count`` times:

- ``proto``, ``direction``, ``state`` (as given), ``state_class``;
- ``src_tos`` and ``dst_tos``: a handful of values, almost always 0, so a
  category each (an empty ToS is its own value) rather than a number whose
  tiny spread would make any other value look extreme;
- destination port class: the ``max_service_ports`` most frequent destination
  ports of the training flows get their own code; other ports fall into
  well-known (0-1023), registered (1024-49151) or ephemeral (49152-65535);
  a missing port (ICMP) is its own value;
- source port class: the same three ranges, without named ports;
- ``inbound``: whether the flow was attributed to its destination host because
  only the destination lies in the home network;
- ``new_destination``: whether the destination address is absent from the
  host's previous ``NOVELTY_LOOKBACK`` flows. Scans, spam runs and P2P sweeps
  keep contacting new addresses while most hosts return to the same servers,
  and the model does not see addresses otherwise.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import polars as pl

from botwatch.errors import ConfigError, NotFittedError

__all__ = ["CATEGORICAL", "NUMERIC", "EncodedFlows", "FeatureEncoder"]

NUMERIC: tuple[str, ...] = (
    "log_duration",
    "log_packets",
    "log_bytes",
    "log_src_bytes",
    "log_dst_bytes",
    "log_bytes_per_packet",
    "log_inter_arrival",
)
CATEGORICAL: tuple[str, ...] = (
    "proto",
    "direction",
    "state",
    "state_class",
    "src_tos",
    "dst_tos",
    "dst_port_class",
    "src_port_class",
    "inbound",
    "new_destination",
)

# Previous flows of the same host that ``new_destination`` compares against.
NOVELTY_LOOKBACK = 8

# Floor on a feature's standard deviation (in log units, so 0.1 is about a 10%
# change): a nearly constant training feature would otherwise turn any later
# variation into an extreme value.
_MIN_STD = 0.1
# Bound on standardised values, in standard deviations.
CLIP_STD = 10.0


@dataclass(frozen=True)
class EncodedFlows:
    """Encoded flows in the row order of the table that was transformed.

    ``numeric`` is float32 with shape [N, len(NUMERIC)]; ``categorical`` is
    int64 with shape [N, len(CATEGORICAL)], code 0 meaning unknown.
    """

    numeric: np.ndarray
    categorical: np.ndarray


def _port_range(port: pl.Expr) -> pl.Expr:
    return (
        pl.when(port.is_null())
        .then(pl.lit("none"))
        .when(port < 1024)
        .then(pl.lit("well-known"))
        .when(port < 49152)
        .then(pl.lit("registered"))
        .otherwise(pl.lit("ephemeral"))
    )


def _raw_columns(flows: pl.DataFrame, service_ports: list[int]) -> pl.DataFrame:
    """Compute raw numeric values and category strings, in row order."""
    host = pl.col("host") if "host" in flows.columns else pl.col("src_addr")
    inbound = (
        (pl.col("host") != pl.col("src_addr")).fill_null(False)
        if "host" in flows.columns
        else pl.lit(False)
    )
    # Inter-arrival time needs each host's flows in time order; the row index
    # restores the caller's order afterwards.
    with_order = flows.with_row_index("_row").with_columns(_host=host)
    seen_before = pl.lit(False)
    for lag in range(1, NOVELTY_LOOKBACK + 1):
        previous = pl.col("dst_addr").shift(lag).over("_host")
        seen_before = seen_before | (previous == pl.col("dst_addr")).fill_null(False)
    per_host = (
        with_order.select("_row", "_host", "start_time", "dst_addr")
        .sort("_host", "start_time", "_row")
        .with_columns(
            _iat=(
                pl.col("start_time").diff().over("_host").dt.total_microseconds() / 1e6
            )
            .fill_null(0.0)
            .clip(lower_bound=0.0),
            _new_destination=~seen_before,
        )
        .sort("_row")
    )
    packets = pl.col("packets").cast(pl.Float64)
    dst_port = pl.col("dst_port")
    service = pl.lit(None, pl.String)
    if service_ports:
        service = (
            pl.when(dst_port.is_in(service_ports))
            .then(pl.lit("port ") + dst_port.cast(pl.String))
            .otherwise(None)
        )
    return with_order.with_columns(
        _iat=per_host.get_column("_iat"),
        _new_destination=per_host.get_column("_new_destination"),
    ).select(
        log_duration=pl.col("duration").clip(lower_bound=0).log1p(),
        log_packets=packets.clip(lower_bound=0).log1p(),
        log_bytes=pl.col("bytes").cast(pl.Float64).clip(lower_bound=0).log1p(),
        log_src_bytes=pl.col("src_bytes").cast(pl.Float64).clip(lower_bound=0).log1p(),
        log_dst_bytes=pl.col("dst_bytes").cast(pl.Float64).clip(lower_bound=0).log1p(),
        log_bytes_per_packet=(
            pl.col("bytes").cast(pl.Float64) / packets.clip(lower_bound=1.0)
        )
        .clip(lower_bound=0)
        .log1p(),
        log_inter_arrival=pl.col("_iat").log1p(),
        proto=pl.col("proto").fill_null("none"),
        direction=pl.col("direction").fill_null("none"),
        state=pl.col("state").fill_null("none"),
        state_class=pl.col("state_class").fill_null("none"),
        src_tos=pl.col("src_tos").cast(pl.String).fill_null("none"),
        dst_tos=pl.col("dst_tos").cast(pl.String).fill_null("none"),
        dst_port_class=pl.coalesce(service, _port_range(dst_port)),
        src_port_class=_port_range(pl.col("src_port")),
        inbound=inbound.cast(pl.String),
        new_destination=pl.col("_new_destination").cast(pl.String),
    )


class FeatureEncoder:
    """Turn flows into model inputs with scalers and vocabularies from training.

    Parameters
    ----------
    max_vocabulary
        Most values kept per categorical feature; rarer ones map to unknown.
    min_count
        Training flows a categorical value needs to get its own code.
    max_service_ports
        Most frequent destination ports that get their own code.
    """

    def __init__(
        self,
        *,
        max_vocabulary: int = 64,
        min_count: int = 5,
        max_service_ports: int = 32,
    ) -> None:
        self.max_vocabulary = max_vocabulary
        self.min_count = min_count
        self.max_service_ports = max_service_ports

    def fit(self, flows: pl.DataFrame) -> FeatureEncoder:
        """Learn scalers and vocabularies from training flows; return self."""
        if flows.height == 0:
            msg = "cannot fit the feature encoder on an empty flow table"
            raise ConfigError(msg)
        ports = (
            flows.get_column("dst_port")
            .drop_nulls()
            .value_counts(sort=True)
            .filter(pl.col("count") >= self.min_count)
            .head(self.max_service_ports)
        )
        self.service_ports_ = sorted(int(p) for p in ports.get_column("dst_port"))
        raw = _raw_columns(flows, self.service_ports_)
        numeric = raw.select(NUMERIC).to_numpy().astype(np.float64)
        self.mean_ = numeric.mean(axis=0).tolist()
        std = numeric.std(axis=0)
        self.std_ = np.maximum(std, _MIN_STD).tolist()
        self.vocabularies_: dict[str, list[str]] = {}
        for name in CATEGORICAL:
            counts = (
                raw.get_column(name)
                .value_counts(sort=True)
                .filter(pl.col("count") >= self.min_count)
                .head(self.max_vocabulary)
            )
            self.vocabularies_[name] = sorted(counts.get_column(name).to_list())
        return self

    def _check_fitted(self) -> None:
        if not hasattr(self, "vocabularies_"):
            msg = "FeatureEncoder is not fitted yet: call fit(flows) first"
            raise NotFittedError(msg)

    @property
    def cardinalities(self) -> list[int]:
        """Number of codes per categorical feature, the unknown code included."""
        self._check_fitted()
        return [len(self.vocabularies_[name]) + 1 for name in CATEGORICAL]

    def transform(self, flows: pl.DataFrame) -> EncodedFlows:
        """Encode flows in their row order.

        The inter-arrival time is taken per ``host`` column when present, else
        per ``src_addr``.
        """
        self._check_fitted()
        raw = _raw_columns(flows, self.service_ports_)
        numeric = raw.select(NUMERIC).to_numpy().astype(np.float64)
        numeric = (numeric - np.asarray(self.mean_)) / np.asarray(self.std_)
        numeric = np.clip(numeric, -CLIP_STD, CLIP_STD)
        codes = []
        for name in CATEGORICAL:
            vocabulary = self.vocabularies_[name]
            mapping = {value: index + 1 for index, value in enumerate(vocabulary)}
            codes.append(
                raw.get_column(name)
                .replace_strict(mapping, default=0, return_dtype=pl.Int64)
                .to_numpy()
            )
        categorical = (
            np.stack(codes, axis=1)
            if codes
            else np.zeros((flows.height, 0), dtype=np.int64)
        )
        return EncodedFlows(
            numeric=numeric.astype(np.float32), categorical=categorical.astype(np.int64)
        )

    def matrix(self, flows: pl.DataFrame) -> np.ndarray:
        """Return a dense float matrix: numeric features then one-hot categories.

        Meant for models that take one flat vector per flow, such as trees.
        """
        encoded = self.transform(flows)
        blocks = [encoded.numeric]
        for column, size in enumerate(self.cardinalities):
            one_hot = np.zeros((flows.height, size), dtype=np.float32)
            one_hot[np.arange(flows.height), encoded.categorical[:, column]] = 1.0
            blocks.append(one_hot)
        return np.concatenate(blocks, axis=1)

    def to_state(self) -> dict[str, Any]:
        """Return the fitted state as plain JSON values."""
        self._check_fitted()
        return {
            "numeric": list(NUMERIC),
            "categorical": list(CATEGORICAL),
            "max_vocabulary": self.max_vocabulary,
            "min_count": self.min_count,
            "max_service_ports": self.max_service_ports,
            "service_ports": self.service_ports_,
            "mean": self.mean_,
            "std": self.std_,
            "vocabularies": self.vocabularies_,
        }

    @classmethod
    def from_state(cls, state: dict[str, Any]) -> FeatureEncoder:
        """Rebuild an encoder from :meth:`to_state` output.

        Raises ``ValueError`` (caught by the model loader) when the state does
        not match this version's features.
        """
        if list(state["numeric"]) != list(NUMERIC) or list(
            state["categorical"]
        ) != list(CATEGORICAL):
            msg = (
                f"the model's features {state['numeric'] + state['categorical']} "
                f"differ from this version's {list(NUMERIC + CATEGORICAL)}"
            )
            raise ValueError(msg)
        encoder = cls(
            max_vocabulary=int(state["max_vocabulary"]),
            min_count=int(state["min_count"]),
            max_service_ports=int(state["max_service_ports"]),
        )
        encoder.service_ports_ = [int(p) for p in state["service_ports"]]
        encoder.mean_ = [float(v) for v in state["mean"]]
        encoder.std_ = [float(v) for v in state["std"]]
        if len(encoder.mean_) != len(NUMERIC) or len(encoder.std_) != len(NUMERIC):
            msg = f"expected {len(NUMERIC)} means and standard deviations"
            raise ValueError(msg)
        if not all(math.isfinite(v) for v in encoder.mean_ + encoder.std_):
            msg = "the scaler holds a value that is not finite"
            raise ValueError(msg)
        encoder.vocabularies_ = {
            name: [str(v) for v in state["vocabularies"][name]] for name in CATEGORICAL
        }
        return encoder
