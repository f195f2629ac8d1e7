"""Audio and video through PyAV, in process: container, streams, duration (cross-checked), tags."""
from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from fractions import Fraction

import av

from media.mp4boxes import video_rotations
from media.problems import MediaProblem
from media.textcodec import repair_mislabelled_latin1

DURATION_TOLERANCE = 0.01  # a container and its streams disagreeing by more than 1% is flagged
_MAX_DEMUX_SECONDS_OF_WORK = 2.0  # wall time allowed for counting packets when headers lie
_TAGS = ("title", "artist", "date", "comment", "album", "creation_time", "language")


@dataclass(frozen=True)
class StreamInfo:
    type: str  # audio, video, subtitle, data
    codec: str | None
    duration: float | None
    start: float = 0.0  # seconds from the container's start: edit lists delay some streams
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
    # Seconds that can be played: for a file cut short, the data actually present (None when
    # that cannot be known); the headers' claim is kept apart in claimed_duration, so no sum
    # of durations is ever inflated by a broken file.
    duration: float | None
    duration_source: str  # container, stream, packets, data (what a cut-short file holds)
    claimed_duration: float  # what the headers (or, failing them, the packets) say
    bit_rate: int | None
    streams: tuple[StreamInfo, ...]
    tags: dict[str, str] = field(default_factory=dict)
    warnings: tuple[str, ...] = ()
    damage: str | None = None  # readable headers, but the data is cut short
    rotation: int = 0  # clockwise degrees a player turns the picture (phone clips)

    def first(self, kind: str) -> StreamInfo | None:
        return next((s for s in self.streams if s.type == kind and not s.attached_picture), None)


def _seconds(value: int | None, time_base: Fraction | None) -> float | None:
    if value is None or time_base is None or value <= 0:
        return None
    return float(value * time_base)


def _is_cover_art(stream: av.stream.Stream) -> bool:
    return bool(stream.disposition & av.stream.Disposition.attached_pic)


def _stream_info(stream: av.stream.Stream) -> StreamInfo:
    ctx = stream.codec_context
    codec = ctx.name if ctx is not None else None
    duration = _seconds(stream.duration, stream.time_base)
    start = _seconds(stream.start_time, stream.time_base) or 0.0
    attached = _is_cover_art(stream)
    if stream.type == "audio" and isinstance(ctx, av.AudioCodecContext):
        channels = getattr(ctx, "channels", None) or getattr(getattr(ctx, "layout", None),
                                                             "nb_channels", None)
        return StreamInfo("audio", codec, duration, start, sample_rate=ctx.sample_rate or None,
                          channels=channels or None, bit_rate=ctx.bit_rate or None)
    if stream.type == "video" and isinstance(ctx, av.VideoCodecContext):
        rate = stream.average_rate or stream.guessed_rate
        return StreamInfo("video", codec, duration, start, width=ctx.width or None,
                          height=ctx.height or None,
                          frame_rate=round(float(rate), 3) if rate else None,
                          bit_rate=ctx.bit_rate or None, attached_picture=attached)
    return StreamInfo(stream.type, codec, duration, start)


def _packet_duration(container: av.container.InputContainer, budget: float) -> float | None:
    """Last timestamp reached by demuxing (no decoding): for files whose headers give no length."""
    deadline = time.monotonic() + budget
    end = None
    for packet in container.demux():
        if packet.pts is not None and packet.time_base is not None:
            t = float((packet.pts + (packet.duration or 0)) * packet.time_base)
            end = t if end is None else max(end, t)
        if time.monotonic() > deadline:
            return None
    return end


def _end_reached(container: av.container.InputContainer, duration: float) -> float | None:
    """Seek to just before the claimed end and read a few packets: the last timestamp found
    there, or None when no packet is there. Headers of a file cut short in copying still claim
    the full length; its data does not reach it. One seek, a few reads: cheap on any size."""
    candidates = [s for s in container.streams
                  if s.type in ("audio", "video") and not _is_cover_art(s)]
    # The stream that runs longest must reach the end (a still-image 'video' track need not).
    stream = max(candidates, key=lambda s: float(s.duration * s.time_base)
                 if s.duration and s.time_base else 0.0, default=None)
    if stream is None or not stream.time_base:
        return None
    target = max(0.0, duration - 2.0)
    try:
        container.seek(int(target / stream.time_base), stream=stream, backward=True,
                       any_frame=True)
    except av.FFmpegError:
        container.seek(0)  # no usable index: read from the start, within the packet budget
    last = None
    for n, packet in enumerate(container.demux(stream)):
        if packet.pts is not None and packet.size:
            last = float((packet.pts + (packet.duration or 0)) * packet.time_base)
        if n >= 64 or (last is not None and last >= duration - 0.5):
            break
    return last


def _data_end(path: str, budget: float) -> float | None:
    """The end of the data a file cut short really holds: the last timestamp reached by
    demuxing from the start (no decoding). None when no data packet is there or the work
    would pass `budget` seconds (a long recording cut late: unknown beats a guess)."""
    deadline = time.monotonic() + budget
    end = None
    try:
        with av.open(path, metadata_errors="ignore") as container:
            streams = [s for s in container.streams
                       if s.type in ("audio", "video") and not _is_cover_art(s)]
            for packet in container.demux(*streams):
                if packet.pts is not None and packet.size and packet.time_base is not None:
                    t = float((packet.pts + (packet.duration or 0)) * packet.time_base)
                    end = t if end is None else max(end, t)
                if time.monotonic() > deadline:
                    return None
    except av.FFmpegError:
        pass  # the data stops being readable where it was cut: what was read is what is there
    return end if end else None


def _truncation(container: av.container.InputContainer, duration: float) -> str | None:
    try:
        end = _end_reached(container, duration)
    except av.FFmpegError:
        end = None
    if end is None or end < duration - max(3.0, 0.05 * duration):
        reached = f"{end:.1f} s" if end is not None else "nothing readable near the end"
        return f"truncated: the headers claim {duration:.1f} s but the data ends at {reached}"
    return None


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
        first_start = min((s.start for s in streams if s.duration), default=0.0)
        stream_durations = [s.start - first_start + s.duration for s in (moving or audio)
                            if s.duration]
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
        bit_rate = container.bit_rate or None
        tags = {k: repair_mislabelled_latin1(str(v)) for k, v in container.metadata.items()
                if k.lower() in _TAGS and str(v).strip()}
        damage = _truncation(container, duration) if source != "packets" else None
        playable: float | None = duration
        if damage:
            playable, source = _data_end(os.fspath(path), _MAX_DEMUX_SECONDS_OF_WORK), "data"
        rotation = 0
        if moving and "mp4" in container.format.name:
            try:
                rotation = next(iter(video_rotations(path)), 0)
            except OSError:
                rotation = 0
        return AVInfo(container=container.format.name, kind=kind,
                      duration=round(playable, 3) if playable is not None else None,
                      duration_source=source, claimed_duration=round(duration, 3),
                      bit_rate=bit_rate, streams=streams,
                      tags={k.lower(): v for k, v in tags.items()}, warnings=tuple(warns),
                      damage=damage, rotation=rotation)
