"""Exceptions raised by botwatch.

Every exception derives from :class:`BotwatchError` and also from the built-in
exception a caller would expect, so ``except ValueError`` keeps working.
"""

from __future__ import annotations

__all__ = [
    "BotwatchError",
    "ConfigError",
    "FlowFormatError",
    "ModelFileError",
    "NotFittedError",
    "TrainingError",
]


class BotwatchError(Exception):
    """Base class of every error botwatch raises on purpose."""


class FlowFormatError(BotwatchError, ValueError):
    """Flow records that cannot be read.

    ``path``, ``line``, ``column`` and ``value`` locate the problem where known.
    """

    def __init__(
        self,
        message: str,
        *,
        path: str | None = None,
        line: int | None = None,
        column: str | None = None,
        value: str | None = None,
    ) -> None:
        super().__init__(message)
        self.path = path
        self.line = line
        self.column = column
        self.value = value


class ModelFileError(BotwatchError, ValueError):
    """A model directory with a missing, corrupt or incompatible file."""

    def __init__(self, message: str, *, path: str | None = None) -> None:
        super().__init__(message)
        self.path = path


class ConfigError(BotwatchError, ValueError):
    """A configuration value outside its allowed range."""

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


class NotFittedError(BotwatchError, RuntimeError):
    """A detector used before ``fit`` or ``load``."""


class TrainingError(BotwatchError, RuntimeError):
    """Training that cannot go on, such as a loss that became NaN or infinite."""


class TooManyRejectedError(FlowFormatError):
    """More rows rejected than the allowed fraction; ``report`` contains the counts."""

    def __init__(
        self, message: str, *, report: object, path: str | None = None
    ) -> None:
        super().__init__(message, path=path)
        self.report = report
