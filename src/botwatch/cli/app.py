"""Entry point of the ``botwatch`` command and the options its commands share.

Exit codes: 0 success, 1 an error in the input or the model (message on
stderr), 2 a usage error (click's own), 3 input read but more rows rejected
than ``--max-rejected`` allows.
"""

from __future__ import annotations

import logging
import sys

import click
from tqdm.contrib.logging import logging_redirect_tqdm

from botwatch import __version__
from botwatch.errors import BotwatchError

EXIT_ERROR = 1
EXIT_TOO_MANY_REJECTED = 3


def configure_logging(verbose: int, quiet: int) -> None:
    """Send log records to stderr at the level that ``-v`` and ``-q`` select."""
    level = logging.INFO + 10 * (quiet - verbose)
    level = max(logging.DEBUG, min(logging.CRITICAL, level))
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger("botwatch")
    root.handlers[:] = [handler]
    root.setLevel(level)
    root.propagate = False


class BotwatchGroup(click.Group):
    """A click group that turns library errors into a message and exit code 1."""

    def invoke(self, ctx: click.Context) -> object:
        try:
            # Log records go through tqdm.write while a progress bar is
            # drawn, so they do not break the bar's line.
            with logging_redirect_tqdm(loggers=[logging.getLogger("botwatch")]):
                return super().invoke(ctx)
        except BotwatchError as err:
            click.echo(f"botwatch: error: {err}", err=True)
            ctx.exit(EXIT_ERROR)


@click.group(
    cls=BotwatchGroup, context_settings={"help_option_names": ["-h", "--help"]}
)
@click.version_option(__version__, prog_name="botwatch")
@click.option("-v", "--verbose", count=True, help="Log more (repeat for debug).")
@click.option("-q", "--quiet", count=True, help="Log less (repeat for errors only).")
def main(verbose: int, quiet: int) -> None:
    """Find botnet-infected hosts in network flow records."""
    configure_logging(verbose, quiet)


def _register_commands() -> None:
    # Imported here so that each command module can import the shared options
    # above without a cycle.
    from botwatch.cli.demo import demo
    from botwatch.cli.detect import detect
    from botwatch.cli.evaluate import evaluate
    from botwatch.cli.inspect import inspect
    from botwatch.cli.train import train

    for command in (inspect, train, detect, evaluate, demo):
        main.add_command(command)


_register_commands()
