"""gisapp: land resources of Shanghai's comprehensive bonded zones (综合保税区)."""

__version__ = "0.1.0"
