"""The training loop: KL warm-up, gradient clipping, early stopping, NaN guard."""

from __future__ import annotations

import logging
import math
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import torch

from botwatch.errors import TrainingError
from botwatch.features import EncodedFlows
from botwatch.model.config import RVAEConfig
from botwatch.model.rvae import RVAE
from botwatch.sequences import SequenceIndex

__all__ = ["TrainingHistory", "batch_tensors", "kl_weight", "train_model"]

logger = logging.getLogger(__name__)


@dataclass
class TrainingHistory:
    """Per-epoch losses (negative ELBO per flow) and the epoch kept."""

    train_loss: list[float] = field(default_factory=list)
    validation_loss: list[float] = field(default_factory=list)
    best_epoch: int = 0
    stopped_early: bool = False


def kl_weight(epoch: int, warmup_epochs: int) -> float:
    """Return the KL weight for a 0-based epoch: linear from 1/(w+1) up to 1."""
    if warmup_epochs <= 0:
        return 1.0
    return min(1.0, (epoch + 1) / (warmup_epochs + 1))


def batch_tensors(
    encoded: EncodedFlows, index: SequenceIndex, sequences: np.ndarray
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """Gather a batch of sequences: numeric [B, T, Fn], codes [B, T, Fc],
    lengths [B] and mask [B, T]."""
    positions, mask = index.positions(sequences)
    rows = index.order[positions]  # [B, T]
    numeric = torch.from_numpy(encoded.numeric[rows])
    codes = torch.from_numpy(encoded.categorical[rows])
    lengths = torch.from_numpy(index.lengths[sequences])
    return numeric, codes, lengths, torch.from_numpy(mask.astype(np.float32))


def _evaluate(
    model: RVAE,
    encoded: EncodedFlows,
    index: SequenceIndex,
    config: RVAEConfig,
    generator: torch.Generator,
) -> float:
    """Return the negative ELBO per flow (KL weight 1) on held-out sequences."""
    model.eval()
    total = 0.0
    n_flows = 0.0
    with torch.no_grad():
        for begin in range(0, index.n_sequences, config.batch_size * 4):
            ids = np.arange(
                begin, min(begin + config.batch_size * 4, index.n_sequences)
            )
            numeric, codes, lengths, mask = batch_tensors(encoded, index, ids)
            elbo, _, _ = model.elbo(numeric, codes, lengths, mask, 1.0, generator)
            flows = float(mask.sum())
            total += -float(elbo) * flows
            n_flows += flows
    model.train()
    return total / max(n_flows, 1.0)


def train_model(
    model: RVAE,
    config: RVAEConfig,
    train: tuple[EncodedFlows, SequenceIndex],
    validation: tuple[EncodedFlows, SequenceIndex] | None,
    *,
    progress: Callable[[int], None] | None = None,
) -> TrainingHistory:
    """Fit ``model`` in place and return the loss history.

    The weights of the epoch with the lowest validation loss are restored at
    the end. ``progress`` is called with the number of sequences of each batch.
    Raises TrainingError when the loss becomes NaN or infinite.
    """
    encoded, index = train
    rng = np.random.default_rng(config.seed)
    generator = torch.Generator().manual_seed(config.seed)
    optimizer = torch.optim.Adam(model.parameters(), lr=config.learning_rate)
    history = TrainingHistory()
    best_loss = math.inf
    best_state = {k: v.detach().clone() for k, v in model.state_dict().items()}
    epochs_without_gain = 0
    model.train()
    for epoch in range(config.epochs):
        weight = kl_weight(epoch, config.kl_warmup_epochs) if model.variational else 0.0
        order = rng.permutation(index.n_sequences)
        if config.max_train_sequences and order.shape[0] > config.max_train_sequences:
            order = order[: config.max_train_sequences]
        epoch_loss = 0.0
        epoch_flows = 0.0
        for begin in range(0, order.shape[0], config.batch_size):
            ids = order[begin : begin + config.batch_size]
            numeric, codes, lengths, mask = batch_tensors(encoded, index, ids)
            elbo, reconstruction, kl = model.elbo(
                numeric, codes, lengths, mask, weight, generator
            )
            loss = -elbo
            if not torch.isfinite(loss):
                msg = (
                    f"the training loss became {loss.item()} in epoch {epoch + 1} "
                    f"(reconstruction {reconstruction.item():.4g}, "
                    f"KL {kl.item():.4g}); "
                    "lower the learning rate or check the input for extreme values"
                )
                raise TrainingError(msg)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), config.grad_clip)
            optimizer.step()
            flows = float(mask.sum())
            epoch_loss += float(loss.detach()) * flows
            epoch_flows += flows
            if progress is not None:
                progress(len(ids))
        history.train_loss.append(epoch_loss / max(epoch_flows, 1.0))
        if validation is not None and validation[1].n_sequences > 0:
            val_loss = _evaluate(model, *validation, config, generator)
        else:
            val_loss = history.train_loss[-1]
        history.validation_loss.append(val_loss)
        logger.info(
            "epoch %d/%d: train loss %.4f, validation loss %.4f (KL weight %.2f)",
            epoch + 1,
            config.epochs,
            history.train_loss[-1],
            val_loss,
            weight,
        )
        # Early stopping compares full-ELBO losses only once the KL warm-up is
        # over, because earlier losses use a smaller KL weight in training.
        if val_loss < best_loss or epoch < config.kl_warmup_epochs:
            best_loss = val_loss
            history.best_epoch = epoch + 1
            best_state = {k: v.detach().clone() for k, v in model.state_dict().items()}
            epochs_without_gain = 0
        else:
            epochs_without_gain += 1
            if epochs_without_gain >= config.patience:
                history.stopped_early = True
                logger.info("stopping early: no gain for %d epochs", config.patience)
                break
    model.load_state_dict(best_state)
    model.eval()
    return history
