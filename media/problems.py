"""Typed outcomes for files that cannot be read as what they claim to be."""
from __future__ import annotations


class MediaProblem(Exception):
    """A file's content is broken, unsupported, encrypted or dangerous. `code` is a stable
    short word for reports (empty, truncated, corrupt, encrypted, bomb, no-duration, ...)."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code
        self.message = message

    def __reduce__(self):  # type: ignore[no-untyped-def]
        # Raised in worker processes and pickled back to the parent with both arguments.
        return (MediaProblem, (self.code, self.message))

    def __str__(self) -> str:
        return f"{self.code}: {self.message}"
