"""Model directories: ``config.json`` and ``weights.safetensors``, never pickle.

``config.json`` contains the format version, the botwatch version, the
hyperparameters, the feature encoder state, the threshold and its fit, the
prior score of the host aggregate and the training summary. The weights are
plain tensors in safetensors format, so loading a model runs no code from it.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any

import polars as pl
import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, save_file

from botwatch import __version__
from botwatch._atomic import atomic_dir
from botwatch.errors import ConfigError, ModelFileError
from botwatch.features import FeatureEncoder
from botwatch.model.config import RVAEConfig
from botwatch.threshold import ThresholdFit
from botwatch.training import TrainingHistory

if TYPE_CHECKING:
    from botwatch.detector import RVAEDetector

__all__ = ["CONFIG_FILE", "FORMAT_VERSION", "WEIGHTS_FILE", "load_model", "save_model"]

logger = logging.getLogger(__name__)

FORMAT_NAME = "botwatch-model"
# Raise when a saved model's meaning changes: features, layers or score scale.
FORMAT_VERSION = 1
CONFIG_FILE = "config.json"
WEIGHTS_FILE = "weights.safetensors"


def save_model(detector: RVAEDetector, path: str | Path) -> Path:
    """Write ``detector`` to the directory ``path`` atomically and return it.

    An existing model directory at ``path`` is replaced only once the new one
    is complete.
    """
    detector._check_fitted()
    target = Path(path)
    if target.exists() and not target.is_dir():
        msg = f"cannot write the model to {target}: it exists and is not a directory"
        raise ModelFileError(msg, path=str(target))
    document = {
        "format": FORMAT_NAME,
        "format_version": FORMAT_VERSION,
        "botwatch_version": __version__,
        "model_id": detector.model_id_,
        "config": detector.config.to_dict(),
        "encoder": detector.encoder_.to_state(),
        "threshold": detector.threshold_fit_.to_dict(),
        "prior_score": detector.prior_score_,
        "host_baselines": {
            column: detector.host_baselines_.get_column(column).to_list()
            for column in ("host", "score_sum", "flows")
        },
        "training_summary": getattr(detector, "training_summary_", {}),
        "history": {
            "train_loss": detector.history_.train_loss,
            "validation_loss": detector.history_.validation_loss,
            "best_epoch": detector.history_.best_epoch,
            "stopped_early": detector.history_.stopped_early,
        },
    }
    state = {
        k: v.detach().contiguous() for k, v in detector.model_.state_dict().items()
    }
    with atomic_dir(target) as tmp:
        save_file(state, str(tmp / WEIGHTS_FILE), metadata={"format": FORMAT_NAME})
        with open(tmp / CONFIG_FILE, "w", encoding="utf-8") as handle:
            json.dump(document, handle, indent=2, sort_keys=True)
            handle.write("\n")
    logger.info("model %s written to %s", document["model_id"], target)
    return target


def _read_config(path: Path) -> dict[str, Any]:
    config_path = path / CONFIG_FILE
    if not path.exists():
        msg = f"model directory {path} not found"
        raise ModelFileError(msg, path=str(path))
    if not path.is_dir():
        msg = (
            f"{path} is not a model directory (expected a directory with {CONFIG_FILE})"
        )
        raise ModelFileError(msg, path=str(path))
    if not config_path.is_file():
        msg = f"{config_path} is missing: this is not a botwatch model directory"
        raise ModelFileError(msg, path=str(config_path))
    try:
        document = json.loads(config_path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        msg = f"{config_path} is not valid JSON ({err}); the model file is corrupt"
        raise ModelFileError(msg, path=str(config_path)) from err
    if not isinstance(document, dict) or document.get("format") != FORMAT_NAME:
        msg = f"{config_path} is not a botwatch model configuration"
        raise ModelFileError(msg, path=str(config_path))
    version = document.get("format_version")
    if version != FORMAT_VERSION:
        msg = (
            f"{config_path} has model format version {version!r}, but this botwatch "
            f"{__version__} reads version {FORMAT_VERSION}; retrain the model with "
            "this version"
        )
        raise ModelFileError(msg, path=str(config_path))
    return document


def load_model(path: str | Path) -> RVAEDetector:
    """Load a model directory; raise ModelFileError naming the file and problem."""
    from botwatch.detector import RVAEDetector

    directory = Path(path)
    document = _read_config(directory)
    config_path = directory / CONFIG_FILE
    try:
        config = RVAEConfig.from_dict(document["config"])
        encoder = FeatureEncoder.from_state(document["encoder"])
        threshold_fit = ThresholdFit(**document["threshold"])
        prior_score = float(document["prior_score"])
        history = TrainingHistory(**document.get("history", {}))
        baselines = document["host_baselines"]
        host_baselines = pl.DataFrame(
            {
                "host": [str(h) for h in baselines["host"]],
                "score_sum": [float(v) for v in baselines["score_sum"]],
                "flows": [int(v) for v in baselines["flows"]],
            },
            schema={"host": pl.String, "score_sum": pl.Float64, "flows": pl.Int64},
        )
    except (KeyError, TypeError, ValueError, ConfigError) as err:
        msg = f"{config_path} is incompatible or incomplete: {err}"
        raise ModelFileError(msg, path=str(config_path)) from err

    detector = RVAEDetector(config)
    detector.encoder_ = encoder
    detector.model_ = detector._build_model(encoder.cardinalities)
    weights_path = directory / WEIGHTS_FILE
    if not weights_path.is_file():
        msg = f"{weights_path} is missing; the model directory is incomplete"
        raise ModelFileError(msg, path=str(weights_path))
    try:
        state = load_file(str(weights_path))
    except (SafetensorError, OSError, ValueError) as err:
        msg = (
            f"{weights_path} cannot be read as safetensors ({err}); the file is corrupt"
        )
        raise ModelFileError(msg, path=str(weights_path)) from err
    expected = detector.model_.state_dict()
    missing = sorted(set(expected) - set(state))
    unexpected = sorted(set(state) - set(expected))
    if missing or unexpected:
        msg = (
            f"{weights_path} does not match the configuration: missing tensors "
            f"{missing}, unexpected tensors {unexpected}"
        )
        raise ModelFileError(msg, path=str(weights_path))
    for name, tensor in expected.items():
        if tuple(state[name].shape) != tuple(tensor.shape):
            msg = (
                f"{weights_path}: tensor {name} has shape {tuple(state[name].shape)}, "
                f"the configuration needs {tuple(tensor.shape)}"
            )
            raise ModelFileError(msg, path=str(weights_path))
        if not torch.isfinite(state[name]).all():
            msg = f"{weights_path}: tensor {name} holds NaN or infinite values"
            raise ModelFileError(msg, path=str(weights_path))
    detector.model_.load_state_dict(state)
    detector.model_.eval()
    detector.threshold_fit_ = threshold_fit
    detector.threshold_ = threshold_fit.threshold
    detector.prior_score_ = prior_score
    detector.host_baselines_ = host_baselines
    detector.history_ = history
    detector.training_summary_ = document.get("training_summary", {})
    stored_id = document.get("model_id")
    if stored_id != detector.model_id_:
        msg = (
            f"{weights_path} does not belong to {config_path}: the model id "
            f"{stored_id!r} does not match the weights ({detector.model_id_})"
        )
        raise ModelFileError(msg, path=str(weights_path))
    return detector
