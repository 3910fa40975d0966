"""The ``botwatch demo``command (being written)."""

from __future__ import annotations

import click


@click.command()
def demo() -> None:
    """Not available yet."""
    raise click.ClickException("botwatch demo is not available yet")
