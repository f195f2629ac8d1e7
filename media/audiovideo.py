"""Audio and video through PyAV, in process: container, streams, duration (cross-checked), tags."""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from fractions import Fraction

import av

from media.problems import MediaProblem

DURATION_TOLERANCE = 0.01  # a container and its streams disagreeing by more than 1% is flagged
_MAX_DEMUX_SECONDS_OF_WORK = 2.0  # wall time allowed for counting packets when headers lie
_TAGS = ("title", "artist", "date", "comment", "album", "creation_time", "language")


@dataclass(frozen=True)
class StreamInfo:
    type: str  # audio, video, subtitle, data
    codec: str | None
    duration: float | None
    sample_rate: int | None = None
    channels: int | None = None
    width: int | None = None
    height: int | None = None
    frame_rate: float | None = None
    bit_rate: int | None = None
    attached_picture: bool = False  # cover art, not a moving picture


@dataclass(frozen=True)
class AVInfo:
    container: str
    kind: str  # "audio" or "video": the content decides, not the extension
    duration: float
    duration_source: str  # container, stream, packets
    bit_rate: int | None
    streams: tuple[StreamInfo, ...]
    tags: dict[str, str] = field(default_factory=dict)
    warnings: tuple[str, ...] = ()

    def first(self, kind: str) -> StreamInfo | None:
        return next((s for s in self.streams if s.type == kind and not s.attached_picture), None)


def _seconds(value: int | None, time_base: Fraction | None) -> float | None:
    if value is None or time_base is None or value <= 0:
        return None
    return float(value * time_base)


def _stream_info(stream: av.stream.Stream) -> StreamInfo:
    ctx = stream.codec_context
    codec = ctx.name if ctx is not None else None
    duration = _seconds(stream.duration, stream.time_base)
    attached = bool(stream.disposition & av.stream.Disposition.attached_pic) \
        if hasattr(av.stream, "Disposition") else False
    if stream.type == "audio":
        channels = getattr(ctx, "channels", None) or getattr(getattr(ctx, "layout", None),
                                                             "nb_channels", None)
        return StreamInfo("audio", codec, duration, sample_rate=ctx.sample_rate or None,
                          channels=channels or None, bit_rate=ctx.bit_rate or None)
    if stream.type == "video":
        rate = stream.average_rate or stream.guessed_rate
        return StreamInfo("video", codec, duration, width=ctx.width or None,
                          height=ctx.height or None,
                          frame_rate=round(float(rate), 3) if rate else None,
                          bit_rate=ctx.bit_rate or None, attached_picture=attached)
    return StreamInfo(stream.type, codec, duration)


def _packet_duration(container: av.container.InputContainer, budget: float) -> float | None:
    """Last timestamp reached by demuxing (no decoding): for files whose headers give no length."""
    import time
    deadline = time.monotonic() + budget
    end = None
    for packet in container.demux():
        if packet.pts is not None and packet.time_base is not None:
            t = float((packet.pts + (packet.duration or 0)) * packet.time_base)
            end = t if end is None else max(end, t)
        if time.monotonic() > deadline:
            return None
    return end


def _clean_tag(value: str) -> str:
    """Repair tags that are GBK bytes mis-declared as Latin-1, as Chinese MP3s often are."""
    value = value.strip("\x00 ").strip()
    if value and all(ord(c) < 256 for c in value) and any(ord(c) > 127 for c in value):
        raw = value.encode("latin-1")
        for encoding in ("utf-8", "gb18030", "big5"):
            try:
                return raw.decode(encoding)
            except UnicodeDecodeError:
                continue
    return value


def probe_av(path: str | os.PathLike[str]) -> AVInfo:
    """Probe an audio or video file; raise MediaProblem when it has no playable stream or no
    knowable duration (random bytes named .mp3 'open' in every demuxer)."""
    try:
        container = av.open(os.fspath(path), metadata_errors="ignore")
    except av.FFmpegError as exc:
        raise MediaProblem("corrupt", f"not a readable audio/video file: {exc}") from None
    with container:
        streams = tuple(_stream_info(s) for s in container.streams)
        moving = [s for s in streams if s.type == "video" and not s.attached_picture]
        audio = [s for s in streams if s.type == "audio"]
        if not moving and not audio:
            raise MediaProblem("no-stream", "no audio or video stream in the file")
        kind = "video" if moving else "audio"
        warns: list[str] = []
        fmt_duration = _seconds(container.duration, Fraction(1, av.time_base))
        stream_durations = [s.duration for s in (moving or audio) if s.duration]
        duration, source = fmt_duration, "container"
        if duration is None and stream_durations:
            duration, source = max(stream_durations), "stream"
        if fmt_duration and stream_durations:
            longest = max(stream_durations)
            if abs(longest - fmt_duration) > DURATION_TOLERANCE * max(fmt_duration, longest):
                warns.append(f"duration mismatch: container {fmt_duration:.3f}s, "
                             f"streams {longest:.3f}s")
        if duration is None:
            try:
                duration, source = _packet_duration(container, _MAX_DEMUX_SECONDS_OF_WORK), \
                    "packets"
            except av.FFmpegError:
                duration = None
        if not duration:
            raise MediaProblem("no-duration", "no duration in the headers or the packets: "
                                              "the file is damaged or not really audio/video")
        size = os.path.getsize(path)
        bit_rate = container.bit_rate or None
        if bit_rate and size and duration:
            implied = size * 8 / bit_rate
            if implied < duration * 0.5:
                warns.append(f"truncated? {size} bytes at {bit_rate} b/s last {implied:.1f}s, "
                             f"headers claim {duration:.1f}s")
        tags = {k: _clean_tag(str(v)) for k, v in container.metadata.items()
                if k.lower() in _TAGS and str(v).strip()}
        return AVInfo(container=container.format.name, kind=kind, duration=round(duration, 3),
                      duration_source=source, bit_rate=bit_rate, streams=streams,
                      tags={k.lower(): v for k, v in tags.items()}, warnings=tuple(warns))
