"""Reading the display rotation of MP4/QuickTime video tracks from their `tkhd` matrix.

PyAV exposes rotation only on decoded frames; decoding costs more than the whole probe. The
track header holds the same matrix, a few seeks away:

    rotation_of_matrix(65536, 0, 0, 65536)   -> 0
    rotation_of_matrix(0, 65536, -65536, 0)  -> 90
    rotation_of_matrix(-65536, 0, 0, -65536) -> 180
"""
from __future__ import annotations

import math
import os
import struct
from collections.abc import Iterator
from typing import BinaryIO

_CONTAINERS = {b"moov", b"trak"}
_MAX_BOXES = 10_000  # hostile files can hold endless tiny boxes


def rotation_of_matrix(a: int, b: int, c: int, d: int) -> int:
    """Clockwise display rotation in degrees (0, 90, 180, 270) of a tkhd matrix."""
    return int(round(math.degrees(math.atan2(b, a)))) % 360


def _boxes(fh: BinaryIO, start: int, end: int) -> Iterator[tuple[bytes, int, int]]:
    """(type, payload start, box end) of the boxes between start and end."""
    pos = start
    for _ in range(_MAX_BOXES):
        if pos + 8 > end:
            return
        fh.seek(pos)
        header = fh.read(8)
        if len(header) < 8:
            return
        size, kind = struct.unpack(">I4s", header)
        payload = pos + 8
        if size == 1:
            size = struct.unpack(">Q", fh.read(8))[0]
            payload = pos + 16
        elif size == 0:
            size = end - pos
        if size < payload - pos:
            return
        yield kind, payload, min(pos + size, end)
        pos += size


def video_rotations(path: str | os.PathLike[str]) -> list[int]:
    """Rotation of each track whose header has a non-zero width (video tracks)."""
    found: list[int] = []
    with open(path, "rb") as fh:
        end = fh.seek(0, os.SEEK_END)

        def walk(start: int, stop: int, depth: int) -> None:
            for kind, payload, box_end in _boxes(fh, start, stop):
                if kind in _CONTAINERS and depth < 3:
                    walk(payload, box_end, depth + 1)
                elif kind == b"tkhd":
                    fh.seek(payload)
                    version = fh.read(1)
                    if not version:
                        return
                    # version/flags, times, track id, reserved, duration, reserved, layer,
                    # alternate group, volume, reserved: 40 bytes (v0) or 52 (v1) to the matrix
                    fh.seek(payload + (52 if version[0] == 1 else 40))
                    raw = fh.read(36 + 8)
                    if len(raw) < 44:
                        return
                    a, b, _u, c, d = struct.unpack(">iii ii", raw[:20])
                    width = struct.unpack(">I", raw[36:40])[0] >> 16
                    if width:
                        found.append(rotation_of_matrix(a, b, c, d))

        walk(0, end, 0)
    return found
