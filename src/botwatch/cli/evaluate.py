"""The ``botwatch evaluate``command (being written)."""

from __future__ import annotations

import click


@click.command()
def evaluate() -> None:
    """Not available yet."""
    raise click.ClickException("botwatch evaluate is not available yet")
