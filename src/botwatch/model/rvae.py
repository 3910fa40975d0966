"""Recurrent variational autoencoder over sequences of encoded flows.

Letters used in shape comments: B is the batch, T is ``seq_len``, Fn the number
of numeric features, Fc the number of categorical features, E the input
embedding width, H is ``hidden_size``, Z is ``latent_dim`` and L the number of
latent samples.

The encoder GRU reads the sequence and its state at the last real flow gives
the mean and log-variance of a diagonal Gaussian over z. The decoder GRU starts
from a state computed from z and receives z at every step, so everything it
reconstructs must pass through the latent. Each step outputs a Gaussian (mean
and log-variance) per numeric feature and a categorical distribution per
categorical feature.
"""

from __future__ import annotations

import torch
from torch import nn

from botwatch.model.likelihood import (
    categorical_log_prob,
    gaussian_log_prob,
    kl_divergence,
)

__all__ = ["RVAE"]

# Bounds on the decoder's log-variance: below -6 (std 0.05 on standardised
# features) a model could buy unbounded likelihood on constant features.
_LOGVAR_MIN = -6.0
_LOGVAR_MAX = 6.0


class RVAE(nn.Module):
    """GRU encoder, latent Gaussian and GRU decoder for flow sequences."""

    def __init__(
        self,
        *,
        n_numeric: int,
        cardinalities: list[int],
        hidden_size: int,
        latent_dim: int,
        num_layers: int = 1,
        embedding_dim: int = 8,
        variational: bool = True,
    ) -> None:
        super().__init__()
        self.n_numeric = n_numeric
        self.cardinalities = list(cardinalities)
        self.variational = variational
        self.embeddings = nn.ModuleList(
            nn.Embedding(size, min(embedding_dim, size)) for size in cardinalities
        )
        input_size = n_numeric + sum(min(embedding_dim, size) for size in cardinalities)
        self.encoder = nn.GRU(input_size, hidden_size, num_layers, batch_first=True)
        self.to_mu = nn.Linear(hidden_size, latent_dim)
        self.to_logvar = nn.Linear(hidden_size, latent_dim)
        self.to_decoder_state = nn.Linear(latent_dim, hidden_size * num_layers)
        self.decoder = nn.GRU(latent_dim, hidden_size, num_layers, batch_first=True)
        self.to_output = nn.Linear(hidden_size, 2 * n_numeric + sum(cardinalities))
        self.num_layers = num_layers
        self.hidden_size = hidden_size

    def encode(
        self, numeric: torch.Tensor, codes: torch.Tensor, lengths: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Return mu and logvar [B, Z] of q(z | sequence)."""
        embedded = [emb(codes[..., i]) for i, emb in enumerate(self.embeddings)]
        inputs = torch.cat([numeric, *embedded], dim=-1)  # [B, T, E]
        outputs, _ = self.encoder(inputs)  # [B, T, H]
        # Padding sits after the real flows, so the output at the last real
        # flow has not seen any padding.
        last = outputs[torch.arange(outputs.shape[0]), lengths - 1]  # [B, H]
        mu = self.to_mu(last)
        if not self.variational:
            return mu, torch.zeros_like(mu)
        logvar = self.to_logvar(last).clamp(-10.0, 10.0)
        return mu, logvar

    def decode(
        self, z: torch.Tensor, seq_len: int
    ) -> tuple[torch.Tensor, torch.Tensor, list[torch.Tensor]]:
        """Return the output distributions for latent codes z [N, Z].

        Returns the numeric mean and log-variance [N, T, Fn] and one logits
        tensor [N, T, K_c] per categorical feature.
        """
        n = z.shape[0]
        state = torch.tanh(self.to_decoder_state(z))  # [N, layers * H]
        state = state.view(n, self.num_layers, self.hidden_size).transpose(0, 1)
        steps = z.unsqueeze(1).expand(n, seq_len, z.shape[1])  # [N, T, Z]
        outputs, _ = self.decoder(steps.contiguous(), state.contiguous())  # [N, T, H]
        params = self.to_output(outputs)  # [N, T, 2 Fn + sum K]
        mean = params[..., : self.n_numeric]
        logvar = params[..., self.n_numeric : 2 * self.n_numeric]
        logvar = logvar.clamp(_LOGVAR_MIN, _LOGVAR_MAX)
        logits = list(
            torch.split(params[..., 2 * self.n_numeric :], self.cardinalities, dim=-1)
        )
        return mean, logvar, logits

    def log_px(
        self,
        numeric: torch.Tensor,
        codes: torch.Tensor,
        z: torch.Tensor,
    ) -> torch.Tensor:
        """Return log p(x_t | z) per flow: [B, T] for z [B, Z]."""
        mean, logvar, logits = self.decode(z, numeric.shape[1])
        return gaussian_log_prob(numeric, mean, logvar) + categorical_log_prob(
            codes, logits
        )

    def sample_z(
        self,
        mu: torch.Tensor,
        logvar: torch.Tensor,
        generator: torch.Generator | None = None,
    ) -> torch.Tensor:
        """Draw z = mu + sigma * eps with the reparameterisation trick."""
        if not self.variational:
            return mu
        eps = torch.randn(mu.shape, generator=generator, dtype=mu.dtype)
        return mu + torch.exp(0.5 * logvar) * eps

    def elbo(
        self,
        numeric: torch.Tensor,
        codes: torch.Tensor,
        lengths: torch.Tensor,
        mask: torch.Tensor,
        kl_weight: float,
        generator: torch.Generator | None = None,
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Return the weighted ELBO, reconstruction term and KL, each per flow.

        Each is a scalar averaged over the real (unmasked) flows of the batch,
        so the loss does not depend on batch size or padding.
        """
        mu, logvar = self.encode(numeric, codes, lengths)
        z = self.sample_z(mu, logvar, generator)
        log_px = self.log_px(numeric, codes, z)  # [B, T]
        n_flows = mask.sum().clamp(min=1)
        reconstruction = (log_px * mask).sum() / n_flows
        kl = (
            kl_divergence(mu, logvar).sum() / n_flows
            if self.variational
            else (torch.zeros((), dtype=log_px.dtype))
        )
        return reconstruction - kl_weight * kl, reconstruction, kl

    @torch.no_grad()
    def score(
        self,
        numeric: torch.Tensor,
        codes: torch.Tensor,
        lengths: torch.Tensor,
        n_samples: int,
        generator: torch.Generator | None = None,
    ) -> torch.Tensor:
        """Return each flow's negative log reconstruction probability [B, T].

        The reconstruction probability is p(x_t | z) averaged over
        ``n_samples`` draws of z from q(z | sequence); its negative log is
        computed stably as log L - logsumexp over the draws. Padded slots hold
        values that the caller must mask out.
        """
        mu, logvar = self.encode(numeric, codes, lengths)
        b, t = numeric.shape[:2]
        samples = n_samples if self.variational else 1
        mu_l = mu.repeat(samples, 1)  # [L B, Z]
        logvar_l = logvar.repeat(samples, 1)
        z = self.sample_z(mu_l, logvar_l, generator)
        log_px = self.log_px(
            numeric.repeat(samples, 1, 1), codes.repeat(samples, 1, 1), z
        ).view(samples, b, t)  # [L, B, T]
        log_mean_px = torch.logsumexp(log_px, dim=0) - torch.log(
            torch.tensor(float(samples))
        )
        return -log_mean_px
