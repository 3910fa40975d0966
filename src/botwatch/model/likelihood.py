"""Log-likelihoods of the decoder's output and the KL divergence of the latent.

Shapes: B batch, T sequence length, Fn numeric features, Z latent size.
"""

from __future__ import annotations

import math

import torch

__all__ = ["categorical_log_prob", "gaussian_log_prob", "kl_divergence"]

_LOG_2PI = math.log(2 * math.pi)


def gaussian_log_prob(
    x: torch.Tensor, mean: torch.Tensor, logvar: torch.Tensor
) -> torch.Tensor:
    """Return log N(x; mean, exp(logvar)) summed over features: [B, T, Fn] -> [B, T]."""
    return -0.5 * (_LOG_2PI + logvar + (x - mean) ** 2 * torch.exp(-logvar)).sum(-1)


def categorical_log_prob(
    codes: torch.Tensor, logits: list[torch.Tensor]
) -> torch.Tensor:
    """Return the log-probability of each code, summed over categorical features.

    ``codes`` is [B, T, Fc]; ``logits`` contains one [B, T, K_c] tensor per feature.
    The result is [B, T].
    """
    total = torch.zeros(
        codes.shape[:2], dtype=logits[0].dtype if logits else torch.float32
    )
    for column, feature_logits in enumerate(logits):
        # The log-softmax at one index is the logit there minus the
        # log-sum-exp of all logits; this avoids normalising every logit.
        index = codes[..., column : column + 1]
        chosen = feature_logits.gather(-1, index).squeeze(-1)
        total = total + chosen - torch.logsumexp(feature_logits, dim=-1)
    return total


def kl_divergence(mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    """Return KL(N(mu, exp(logvar)) || N(0, I)) per sequence: [B, Z] -> [B]."""
    return 0.5 * (mu**2 + torch.exp(logvar) - 1.0 - logvar).sum(-1)
