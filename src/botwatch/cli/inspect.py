"""The ``botwatch inspect``command (being written)."""

from __future__ import annotations

import click


@click.command()
def inspect() -> None:
    """Not available yet."""
    raise click.ClickException("botwatch inspect is not available yet")
