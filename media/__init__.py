"""Looking inside files: path in, frozen dataclass out. Imports nothing from the project."""
from __future__ import annotations

from media.problems import MediaProblem

__all__ = ["MediaProblem"]
