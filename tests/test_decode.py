from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest

from video2gif.decode import FrameConsumer, FrameRequest, Worker, decode_pass, probe, read_range
from video2gif.errors import DecodeError, InputError

from . import synthetic
from .conftest import media


class Recorder(FrameConsumer):
    def __init__(self, request: FrameRequest) -> None:
        super().__init__(request)
        self.indices: list[int] = []
        self.times: list[float] = []
        self.shapes: list[tuple] = []
        self.first: np.ndarray | None = None

    def push(self, index, time, image):
        if self.first is None:
            self.first = image.copy()
        self.indices.append(index)
        self.times.append(time)
        self.shapes.append(image.shape)


def test_every_frame_with_times_and_size(three_shot_video):
    every = Recorder(FrameRequest(width=64, height=36))
    gray = Recorder(FrameRequest(width=32, pixel_format="gray"))
    info = decode_pass(three_shot_video, [every, gray])
    assert info.frames == 144
    assert info.fps == Fraction(24)
    assert info.duration == pytest.approx(6.0, abs=1e-6)
    assert (info.width, info.height) == (160, 96)
    assert every.indices == list(range(144))
    assert np.allclose(every.times, np.arange(144) / 24, atol=1e-6)
    assert set(every.shapes) == {(36, 64, 3)}
    assert set(gray.shapes) == {(19, 32)}  # aspect kept: 32 × 96/160 ≈ 19


def test_sampled_frames_follow_the_clock(three_shot_video):
    sampled = Recorder(FrameRequest(width=32, height=32, fps=2.0))
    decode_pass(three_shot_video, [sampled])
    assert np.allclose(sampled.times, np.arange(12) / 2, atol=1e-6)


def test_variable_frame_rate_times_come_from_timestamps(tmp_path):
    """Frames at irregular times (1/1000 s time base) keep their own timestamps."""
    pts = [0, 40, 80, 200, 240, 500, 540, 580]
    frames = [synthetic.textured(i) for i in range(len(pts))]
    path = synthetic.write_video(tmp_path / "vfr.mkv", frames, fps=25, pts=pts,
                                 time_base=Fraction(1, 1000))
    rec = Recorder(FrameRequest(width=32, height=32))
    info = decode_pass(path, [rec])
    assert np.allclose(rec.times, np.array(pts) / 1000, atol=1e-3)
    assert info.frames == len(pts)


def test_rotation_metadata_is_honoured(tmp_path):
    """A 160×96 video flagged as rotated by 90° is seen as 96×160, content turned."""
    image = np.zeros((96, 160, 3), np.uint8)
    image[:, :80] = 255  # left half white
    path = synthetic.write_video(tmp_path / "rot.mp4", [image] * 5, rotation=90)
    rec = Recorder(FrameRequest())
    info = decode_pass(path, [rec])
    assert info.rotation in (90, 270)
    assert (info.width, info.height) == (96, 160)
    assert rec.first.shape == (160, 96, 3)
    # Counter-clockwise 90°: the white left half ends at the bottom; clockwise: at the top.
    top, bottom = rec.first[:80].mean(), rec.first[80:].mean()
    assert abs(top - bottom) > 150


def test_read_range_seeks_exactly(long_two_shot_video):
    frames = list(read_range(long_two_shot_video, 7.0, 8.0, width=80))
    times = [f.time for f in frames]
    assert times[0] == pytest.approx(7.0, abs=1e-6)
    assert len(frames) == 24
    assert frames[0].image.shape == (48, 80, 3)
    # Same pixels as a full decode of that frame.
    rec = Recorder(FrameRequest(width=80))

    class At(FrameConsumer):
        image = None

        def push(self, index, time, image):
            if index == 168:
                At.image = image.copy()

    decode_pass(long_two_shot_video, [At(FrameRequest(width=80, interpolation="LANCZOS"))])
    assert np.abs(At.image.astype(int) - frames[0].image.astype(int)).mean() < 2
    del rec


def test_read_range_hands_every_frame_of_the_range_to_a_second_use(long_two_shot_video):
    """One decode, two uses: the kept frames in colour, every frame of the range to ``every``,
    each as it would be read alone."""
    class Greys(FrameConsumer):
        def __init__(self):
            super().__init__(FrameRequest(width=40, pixel_format="gray",
                                          interpolation="LANCZOS"))
            self.indices, self.times, self.images = [], [], []

        def push(self, index, time, image):
            self.indices.append(index)
            self.times.append(time)
            self.images.append(image)

    greys = Greys()
    kept = list(read_range(long_two_shot_video, 7.0, 8.0, width=80, every=greys,
                           keep=lambda t, _next: round(t * 24) % 3 == 0))
    alone = list(read_range(long_two_shot_video, 7.0, 8.0, width=40, pixel_format="gray"))
    assert len(kept) == 8 and kept[0].image.shape == (48, 80, 3)
    assert greys.indices == list(range(24))
    assert greys.times == [f.time for f in alone]
    assert all(np.array_equal(a, f.image) for a, f in zip(greys.images, alone))


def test_every_frame_of_a_rotated_range_comes_turned(tmp_path):
    """``every`` scales before rotating, as the frames ``read_range`` yields: a 160×96 video
    flagged as rotated gives 48×80 grey frames for a 48-px-wide request, like a read of its own."""
    rng = np.random.default_rng(3)
    frames = [rng.integers(0, 256, (96, 160, 3), np.uint8) for _ in range(30)]
    path = synthetic.write_video(tmp_path / "rot.mp4", frames, rotation=90)
    request = FrameRequest(width=48, pixel_format="gray", interpolation="LANCZOS")

    class Greys(FrameConsumer):
        images: list = []

        def push(self, index, time, image):
            self.images.append(image)

    greys = Greys(request)
    list(read_range(path, 0.6, 1.0, width=16, every=greys))
    alone = list(read_range(path, 0.6, 1.0, width=48, pixel_format="gray"))
    assert len(greys.images) == len(alone) > 0 and greys.images[0].shape == (80, 48)
    assert all(np.array_equal(a, f.image) for a, f in zip(greys.images, alone))


def test_real_clip_with_delayed_start_begins_at_zero():
    path = media("pyscenedetect/delayed_start.mp4")
    rec = Recorder(FrameRequest(width=32, height=32))
    info = decode_pass(path, [rec])
    assert info.start_time > 1.0  # the container starts late...
    assert rec.times[0] == 0.0  # ...but our times count from the first frame


def test_real_rotated_clip():
    info = probe(media("pyscenedetect/issue-134-rotate.mp4"))
    assert info.rotation == 270 and (info.width, info.height) == (544, 1280)


def test_broken_audio_does_not_break_video():
    rec = Recorder(FrameRequest(width=32, height=32, fps=1))
    info = decode_pass(media("moviepy/video_with_failing_audio.mp4"), [rec])
    assert info.frames > 10 and len(rec.times) >= 1


@pytest.mark.parametrize("make, reason", [
    (lambda d: d / "missing.mp4", "no such file"),
    (lambda d: d, "directory"),
    (lambda d: _write(d / "empty.mp4", b""), "empty"),
    (lambda d: _write(d / "text.mp4", b"hello, this is not a video\n" * 50), "not a readable"),
    (lambda d: _write(d / "noise.mp4", np.random.default_rng(0).bytes(50_000)), "not a readable"),
])
def test_bad_inputs_raise_input_error(tmp_path, make, reason):
    with pytest.raises(InputError, match=reason):
        probe(make(tmp_path))


def test_audio_only_file_is_rejected(tmp_path):
    import av

    path = tmp_path / "tone.m4a"
    with av.open(str(path), "w") as out:
        stream = out.add_stream("aac", rate=16000)
        stream.layout = "mono"
        samples = np.sin(np.arange(16000) / 10).astype(np.float32)[None, :]
        for start in range(0, 16000, 1024):
            frame = av.AudioFrame.from_ndarray(samples[:, start:start + 1024], format="fltp",
                                               layout="mono")
            frame.sample_rate = 16000
            frame.pts = start
            for p in stream.encode(frame):
                out.mux(p)
        for p in stream.encode():
            out.mux(p)
    with pytest.raises(InputError, match=r"no video stream \(found: audio\)"):
        probe(path)


def test_truncated_file_decodes_what_is_there_or_fails_cleanly(three_shot_video, tmp_path):
    data = three_shot_video.read_bytes()
    cut = tmp_path / "cut.mp4"
    cut.write_bytes(data[: len(data) // 3])
    try:
        info = decode_pass(cut, [Recorder(FrameRequest(width=16, height=16))])
    except InputError:  # includes DecodeError
        return
    assert 0 < info.frames <= 144


def test_undecodable_video_stream_is_a_decode_error(three_shot_video, tmp_path):
    """Keep the container header, scramble every byte after it."""
    data = bytearray(three_shot_video.read_bytes())
    rng = np.random.default_rng(1)
    head = 2048
    data[head:] = rng.integers(0, 256, len(data) - head, dtype=np.uint8).tobytes()
    bad = tmp_path / "scrambled.mp4"
    bad.write_bytes(bytes(data))
    with pytest.raises(InputError):
        decode_pass(bad, [Recorder(FrameRequest(width=16, height=16))])
    assert issubclass(DecodeError, InputError)


def _write(path, data: bytes):
    path.write_bytes(data)
    return path


class Frames(FrameConsumer):
    def __init__(self, request: FrameRequest) -> None:
        super().__init__(request)
        self.images: list[np.ndarray] = []

    def push(self, index, time, image):
        self.images.append(image)


@pytest.fixture
def deblocked_video(tmp_path):
    """24 fps, 160×96, 24 frames of a moving texture, x264 veryfast at CRF 40: coarse blocks that
    the decoder's in-loop deblocking filter smooths (ultrafast, as in synthetic.write_video,
    turns that filter off)."""
    import av

    path = tmp_path / "blocky.mp4"
    scene = synthetic.moving(4, speed=3)
    with av.open(str(path), "w") as out:
        stream = out.add_stream("libx264", rate=24)
        stream.width, stream.height, stream.pix_fmt = 160, 96, "yuv420p"
        stream.options = {"crf": "40", "preset": "veryfast"}
        for i in range(24):
            for packet in stream.encode(av.VideoFrame.from_ndarray(scene(i), format="rgb24")):
                out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)
    return path


def test_only_consumers_of_scaled_content_skip_the_deblocking_filter(deblocked_video):
    exact = Frames(FrameRequest())
    decode_pass(deblocked_video, [exact])
    fast = Frames(FrameRequest(exact=False))
    decode_pass(deblocked_video, [fast])
    assert len(fast.images) == len(exact.images) == 24
    assert any(np.any(a != b) for a, b in zip(fast.images, exact.images))
    # One consumer that needs exact pixels makes the whole pass exact.
    shared, exact_too = Frames(FrameRequest(exact=False)), Frames(FrameRequest())
    decode_pass(deblocked_video, [shared, exact_too])
    assert all(np.array_equal(a, b) for a, b in zip(shared.images, exact.images))
    # Re-reading (for encoding) always decodes exactly.
    reread = [f.image for f in read_range(deblocked_video, 0.0, 1.0)]
    assert all(np.array_equal(a, b) for a, b in zip(reread, exact.images))


def test_worker_keeps_order_and_raises_the_first_error_in_the_caller():
    done: list[int] = []

    def work(item: int) -> None:
        if item == 3:
            raise ValueError("item 3 is bad")
        done.append(item)

    worker = Worker(work, pending=2, name="test-worker")
    with pytest.raises(ValueError, match="item 3 is bad"):
        for i in range(50):
            worker.submit(i)
        worker.close()
    worker.discard()  # a second close after the error is harmless
    assert done == [0, 1, 2]
