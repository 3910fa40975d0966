"""The ``botwatch train``command (being written)."""

from __future__ import annotations

import click


@click.command()
def train() -> None:
    """Not available yet."""
    raise click.ClickException("botwatch train is not available yet")
