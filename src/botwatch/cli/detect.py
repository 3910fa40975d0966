"""The ``botwatch detect``command (being written)."""

from __future__ import annotations

import click


@click.command()
def detect() -> None:
    """Not available yet."""
    raise click.ClickException("botwatch detect is not available yet")
