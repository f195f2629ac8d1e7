"""The scientists' archive: catalog core (settings, errors, fields, models, catalog facade)."""
from __future__ import annotations

__version__ = "0.1.0"
