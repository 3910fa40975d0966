"""Selection of a share of a flow table by time, and the ``--slice`` parser."""

from __future__ import annotations

import polars as pl

from botwatch.errors import ConfigError

__all__ = ["parse_slice", "time_slice"]


def _check_fractions(start_fraction: float, end_fraction: float) -> None:
    if not 0.0 <= start_fraction < end_fraction <= 1.0:
        raise ConfigError(
            f"invalid time slice {start_fraction}:{end_fraction}; expected "
            "fractions A:B with 0 <= A < B <= 1, such as 0:0.5",
            field="slice",
        )


def time_slice(
    flows: pl.DataFrame, start_fraction: float, end_fraction: float
) -> pl.DataFrame:
    """Keep the flows that start in a share of the table's own time span.

    With ``start`` and ``end`` the first and last ``start_time`` and ``span``
    their difference, keeps flows with ``start + a * span <= start_time <
    start + b * span``; for ``b == 1`` the last flow is kept too. Row order is
    kept.

    Raises
    ------
    ConfigError
        Unless ``0 <= start_fraction < end_fraction <= 1``.
    """
    _check_fractions(start_fraction, end_fraction)
    if flows.height == 0:
        return flows
    times = flows.get_column("start_time")
    first, last = times.min(), times.max()
    span = last - first
    low = first + span * start_fraction
    high = first + span * end_fraction
    if end_fraction == 1.0:
        keep = (pl.col("start_time") >= low) & (pl.col("start_time") <= last)
    else:
        keep = (pl.col("start_time") >= low) & (pl.col("start_time") < high)
    return flows.filter(keep)


def parse_slice(text: str) -> tuple[float, float]:
    """Parse ``A:B`` (such as ``0:0.5``) into two fractions.

    An empty ``A`` means 0 and an empty ``B`` means 1, as in ``:0.5``.

    Raises
    ------
    ConfigError
        When the text is not two numbers around a colon, or they do not
        satisfy ``0 <= A < B <= 1``.
    """
    parts = text.strip().split(":")
    if len(parts) != 2:
        raise ConfigError(
            f"invalid --slice {text!r}; expected A:B with 0 <= A < B <= 1, "
            "such as 0:0.5",
            field="slice",
        )
    try:
        start = float(parts[0]) if parts[0].strip() else 0.0
        end = float(parts[1]) if parts[1].strip() else 1.0
    except ValueError as err:
        raise ConfigError(
            f"invalid --slice {text!r}; A and B must be numbers, such as 0:0.5",
            field="slice",
        ) from err
    _check_fractions(start, end)
    return start, end
