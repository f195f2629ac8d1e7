"""Fixity: streamed SHA-256 that never holds a whole file in memory."""
from __future__ import annotations

import hashlib
import os

CHUNK = 1024 * 1024


def sha256_file(path: str | bytes | os.PathLike[str]) -> tuple[str, int]:
    """Return (hex digest, bytes read). hashlib releases the GIL, so threads can overlap this."""
    digest = hashlib.sha256()
    total = 0
    with open(path, "rb", buffering=0) as fh:
        buf = bytearray(CHUNK)
        view = memoryview(buf)
        while n := fh.readinto(buf):
            digest.update(view[:n])
            total += n
    return digest.hexdigest(), total
