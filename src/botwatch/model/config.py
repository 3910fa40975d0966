"""Hyperparameters of the detector and their validation."""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import Any

from botwatch.errors import ConfigError

__all__ = ["TRAIN_ON_CHOICES", "RVAEConfig"]

TRAIN_ON_CHOICES = ("benign", "non-botnet", "all")


@dataclass(frozen=True)
class RVAEConfig:
    """Everything that decides how a detector is trained and how it alerts."""

    # Sequences. Measured on CTU-13 scenario 6 (docs/method.md): 32 flows gave
    # a higher botnet-against-normal ROC-AUC than 8 or 16.
    seq_len: int = 32
    # Half-overlapping sequences give each flow two contexts.
    stride: int = 16
    # Network.
    hidden_size: int = 64
    latent_dim: int = 16
    num_layers: int = 1
    embedding_dim: int = 8
    # False trains a plain GRU autoencoder: the deterministic ablation.
    variational: bool = True
    # Training.
    # Longer training kept lowering the validation loss but made rare benign
    # traffic as easy to reconstruct as the bot's, lowering the ROC-AUC
    # (docs/method.md), so the default stops early on purpose.
    epochs: int = 3
    batch_size: int = 256
    learning_rate: float = 2e-3
    # NOTE: with the default 3 epochs the KL weight ends at 0.75, so training
    # never reaches the full ELBO. A 1-epoch warm-up measured about the same
    # ROC-AUC on CTU-13 scenario 6 (0.9989, 0.9860, 0.9986 for seeds 0 to 2).
    kl_warmup_epochs: int = 3
    grad_clip: float = 5.0
    patience: int = 2
    # Share of the training time span, at its end, held out for early stopping
    # and threshold calibration.
    validation_fraction: float = 0.2
    # Cap on training sequences per epoch, so one very busy host cannot make an
    # epoch arbitrarily long; 0 means no cap.
    max_train_sequences: int = 40_000
    seed: int = 0
    train_on: str | None = None
    # Scoring. Sequences for scoring start every score_stride flows (0 means
    # seq_len: no overlap, which halves the cost against the training stride
    # and, measured on CTU-13 scenario 6, left the ROC-AUC unchanged).
    score_stride: int = 0
    # Latent samples per sequence. On CTU-13 scenario 6, 4 samples gave about the
    # same ROC-AUC and bot alerts as 2, and each sample costs a decoder pass.
    n_latent_samples: int = 2
    window_seconds: float = 300.0
    # A host-window score is the mean of its flow scores shrunk towards the
    # median benign flow score with this many pseudo-flows, so a host needs
    # several anomalous flows in a window, not one, to reach the threshold.
    # Larger values missed quieter bots in measurements (docs/method.md).
    prior_weight: float = 5.0
    # Judge each host against the level of the flows it sent in training
    # (BaseFlowDetector.host_offsets). A host needs about baseline_weight
    # training flows before its own level outweighs the network's.
    host_baselines: bool = True
    baseline_weight: float = 20.0
    target_fpr: float = 0.01
    home_net: tuple[str, ...] | None = None

    def __post_init__(self) -> None:
        validate(self)

    def replace(self, **changes: Any) -> RVAEConfig:
        """Return a copy with some fields changed (validated again)."""
        return dataclasses.replace(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        """Return the fields as JSON values."""
        data = dataclasses.asdict(self)
        data["home_net"] = list(self.home_net) if self.home_net is not None else None
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RVAEConfig:
        """Build a config from :meth:`to_dict` output; unknown keys are errors."""
        known = {field.name for field in dataclasses.fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            msg = (
                f"unknown configuration keys {unknown}; known keys are {sorted(known)}"
            )
            raise ConfigError(msg, field=unknown[0])
        values = dict(data)
        if values.get("home_net") is not None:
            values["home_net"] = tuple(values["home_net"])
        return cls(**values)


# (field, type, lower bound, upper bound, lower bound inclusive)
_CONSTRAINTS: tuple[tuple[str, type, float, float, bool], ...] = (
    ("seq_len", int, 1, 4096, True),
    ("stride", int, 1, 4096, True),
    ("hidden_size", int, 1, 4096, True),
    ("latent_dim", int, 1, 1024, True),
    ("num_layers", int, 1, 8, True),
    ("embedding_dim", int, 1, 256, True),
    ("epochs", int, 1, 10_000, True),
    ("batch_size", int, 1, 1_000_000, True),
    ("learning_rate", float, 0.0, 1.0, False),
    ("kl_warmup_epochs", int, 0, 10_000, True),
    ("grad_clip", float, 0.0, math.inf, False),
    ("patience", int, 1, 10_000, True),
    ("validation_fraction", float, 0.0, 0.9, False),
    ("max_train_sequences", int, 0, 10**9, True),
    ("seed", int, 0, 2**63 - 1, True),
    ("score_stride", int, 0, 4096, True),
    ("n_latent_samples", int, 1, 1000, True),
    ("window_seconds", float, 0.0, math.inf, False),
    ("prior_weight", float, 0.0, 1e6, True),
    ("target_fpr", float, 0.0, 0.5, False),
    ("baseline_weight", float, 0.0, 1e9, True),
)


def validate(config: RVAEConfig) -> None:
    """Raise ConfigError naming the first field outside its allowed range."""
    for name, kind, low, high, low_inclusive in _CONSTRAINTS:
        value = getattr(config, name)
        if kind is int and (isinstance(value, bool) or not isinstance(value, int)):
            msg = f"{name} must be an integer, got {value!r}"
            raise ConfigError(msg, field=name)
        if kind is float and (
            isinstance(value, bool) or not isinstance(value, int | float)
        ):
            msg = f"{name} must be a number, got {value!r}"
            raise ConfigError(msg, field=name)
        too_low = value < low if low_inclusive else value <= low
        if (
            too_low
            or value > high
            or (kind is float and not math.isfinite(value) and high != math.inf)
        ):
            opening = "[" if low_inclusive else "("
            msg = f"{name} must lie in {opening}{low}, {high}], got {value!r}"
            raise ConfigError(msg, field=name)
    if config.stride > config.seq_len:
        msg = (
            f"stride ({config.stride}) must not exceed seq_len ({config.seq_len}), "
            "or flows between sequences would get no score"
        )
        raise ConfigError(msg, field="stride")
    if config.score_stride > config.seq_len:
        msg = (
            f"score_stride ({config.score_stride}) must not exceed seq_len "
            f"({config.seq_len}), or flows between sequences would get no score"
        )
        raise ConfigError(msg, field="score_stride")
    if config.train_on is not None and config.train_on not in TRAIN_ON_CHOICES:
        msg = (
            f"train_on must be one of {list(TRAIN_ON_CHOICES)}, got {config.train_on!r}"
        )
        raise ConfigError(msg, field="train_on")
    for name in ("variational", "host_baselines"):
        if not isinstance(getattr(config, name), bool):
            msg = f"{name} must be true or false, got {getattr(config, name)!r}"
            raise ConfigError(msg, field=name)
