"""botwatch: find botnet-infected hosts in network flow records."""

from __future__ import annotations

__version__ = "0.1.0"
