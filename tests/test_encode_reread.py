"""encode: re-reading a picked range converts only the frames an output tick shows, the frames
it returns are exactly those of a plain decode of the whole video, and encoding them while they
are still being decoded writes the same GIF."""

from __future__ import annotations

import dataclasses
import threading
from fractions import Fraction

import av
import numpy as np
import pytest

from video2gif.decode import read_range
from video2gif.encode import EncodeOptions, _read_segment, _resample, encode_segment
from video2gif.errors import EncodeError
from video2gif.writers import gif as gif_writer

from . import synthetic


def plain_decode(path, width: int) -> list[tuple[float, np.ndarray]]:
    """Every frame of ``path`` from the start, no seeking, each scaled on its own (lanczos)."""
    out = []
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        first = None
        for frame in container.decode(stream):
            first = float(frame.time) if first is None else first
            height = max(2, round(frame.height * width / frame.width))
            image = frame.reformat(width=width, height=height, format="rgb24",
                                   interpolation="LANCZOS").to_ndarray()
            out.append((float(frame.time) - first, image))
    return out


@pytest.fixture
def vfr_video(tmp_path):
    """1 s at 24 fps, then 1 s at 6 fps (time base 1/96 s), 160×96."""
    gen = synthetic.moving(3, speed=3)
    pts = [i * 4 for i in range(24)] + [96 + i * 16 for i in range(6)]
    return synthetic.write_video(tmp_path / "vfr.mp4", [gen(i) for i in range(30)], fps=24,
                                 pts=pts, time_base=Fraction(1, 96))


def test_seeking_reread_equals_a_plain_full_decode(long_two_shot_video):
    """The pre-roll from the keyframe before ``start`` and the shared scaler change nothing."""
    plain = plain_decode(long_two_shot_video, 120)
    frames = list(read_range(long_two_shot_video, 7.0, 8.5, width=120))
    expected = [(t, im) for t, im in plain if 7.0 - 1e-4 <= t < 8.5 - 1e-4]
    assert len(frames) == len(expected) == 36
    for f, (t, image) in zip(frames, expected):
        assert f.time == pytest.approx(t, abs=1e-6)
        assert np.array_equal(f.image, image)


@pytest.fixture
def b_frame_video(tmp_path):
    """H.264 with B-frames and one keyframe every 3 s, 24 fps, 5 s, 160×96."""
    gen = synthetic.moving(7, speed=2)
    path = tmp_path / "b_frames.mp4"
    with av.open(str(path), "w") as out:
        stream = out.add_stream("libx264", rate=24)
        stream.width, stream.height, stream.pix_fmt = 160, 96, "yuv420p"
        stream.options = {"preset": "medium", "bframes": "3", "g": "72", "keyint_min": "72",
                          "sc_threshold": "0"}
        for i in range(120):
            frame = av.VideoFrame.from_ndarray(gen(i), format="rgb24")
            for packet in stream.encode(frame):
                out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)
    return path


@pytest.mark.parametrize("start", [1.0, 2.5, 3.2])
def test_preroll_without_b_frames_changes_no_frame(b_frame_video, start):
    """The frames between the keyframe and ``start`` decode without their B-frames; the range
    itself is still exactly what a plain decode gives."""
    with av.open(str(b_frame_video)) as container:  # the video has frames worth skipping
        container.streams.video[0].codec_context.skip_frame = "NONREF"
        assert sum(1 for _ in container.decode(video=0)) < 100
    plain = plain_decode(b_frame_video, 160)
    frames = list(read_range(b_frame_video, start, start + 1.5, width=160))
    expected = [(t, im) for t, im in plain if start - 1e-4 <= t < start + 1.5 - 1e-4]
    assert len(frames) == len(expected) > 20
    for f, (t, image) in zip(frames, expected):
        assert f.time == pytest.approx(t, abs=1e-6)
        assert np.array_equal(f.image, image)


@pytest.mark.parametrize("rates", [{12.0}, {12.0, 10.0, 8.0, 6.0}, {7.0}, {30.0}])
@pytest.mark.parametrize("video,start,end", [
    ("long_two_shot_video", 7.0, 8.5),  # a seek, 24 fps
    ("long_two_shot_video", 0.0, 1.0),  # from the first frame
    ("long_two_shot_video", 11.2, 14.0),  # past the end of the video
    ("vfr_video", 0.3, 2.0),  # variable frame rate
])  # fmt: skip
def test_reread_keeps_exactly_the_frames_each_rate_shows(request, video, start, end, rates):
    path = request.getfixturevalue(video)
    every = list(read_range(path, start, end, width=80))
    times, images, stop = _read_segment(path, start, end, 80, rates)
    assert len(times) <= len(every)
    if max(rates) < 24:
        assert len(times) < len(every)  # some frames were never converted
    all_times = [f.time for f in every]
    assert stop == pytest.approx(min(end, all_times[-1] + (all_times[-1] - all_times[-2])))
    for fps in rates:
        want = _resample(all_times, [f.image for f in every], start, stop, fps)
        got = _resample(times, images, start, stop, fps)
        assert got[1] == want[1]  # holds
        assert all(np.array_equal(a, b) for a, b in zip(got[0], want[0]))


def as_read(frames, holds, fps):
    """A loop shaper that changes nothing: it makes encode_segment read the whole segment
    before encoding instead of encoding while the segment is still being decoded."""
    return frames, holds


@pytest.mark.parametrize("video,options,budget", [
    ("long_two_shot_video", EncodeOptions(max_bytes=None), None),
    ("long_two_shot_video", EncodeOptions(), 0.6),  # several rungs of the ladder
    ("vfr_video", EncodeOptions(max_bytes=None, fps=10), None),
])  # fmt: skip
def test_encoding_while_decoding_writes_the_same_gif(request, tmp_path, video, options, budget):
    path = request.getfixturevalue(video)
    if budget:  # a share of the size at full settings
        full = encode_segment(path, 0.3, 2.0, tmp_path / "full.gif", options).bytes
        options = dataclasses.replace(options, max_bytes=int(full * budget))
    overlapped = encode_segment(path, 0.3, 2.0, tmp_path / "a.gif", options)
    serial = encode_segment(path, 0.3, 2.0, tmp_path / "b.gif", options, shape=as_read)
    assert overlapped.attempts == serial.attempts >= (3 if budget else 1)
    assert (tmp_path / "a.gif").read_bytes() == (tmp_path / "b.gif").read_bytes()


def test_a_failed_encode_stops_the_reading_thread(long_two_shot_video, tmp_path, monkeypatch):
    def fail(*args, **kwargs):
        next(iter(args[0]))  # the first frame arrives from the reading thread
        raise OSError("disk full")

    monkeypatch.setattr(gif_writer, "write", fail)
    threads = threading.active_count()
    with pytest.raises(EncodeError, match="disk full"):
        encode_segment(long_two_shot_video, 1.0, 9.0, tmp_path / "x.gif")
    assert threading.active_count() == threads
    assert not (tmp_path / "x.gif").exists() and len(list(tmp_path.iterdir())) == 1  # the video
