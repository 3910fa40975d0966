"""botwatch: find botnet-infected hosts in network flow records.

The public API: :func:`read_flows` reads flow records into one table,
:class:`RVAEDetector` learns normal traffic and scores flows and hosts, and
:func:`load_model` reads a saved model directory.
"""

from __future__ import annotations

__version__ = "0.1.0"

from botwatch.detector import RVAEDetector, load_model  # noqa: E402
from botwatch.io import read_flows, time_slice  # noqa: E402
from botwatch.model.config import RVAEConfig  # noqa: E402

__all__ = [
    "RVAEConfig",
    "RVAEDetector",
    "__version__",
    "load_model",
    "read_flows",
    "time_slice",
]
