"""Signals for the default prior: faces, sound excitement (audio in the same decode pass, broken
tracks included) and novelty; and the features stage that gathers them."""

from __future__ import annotations

import warnings

import av
import numpy as np
import pytest

from video2gif.decode import AudioConsumer, decode_pass
from video2gif.errors import FeatureWarning
from video2gif.features import audio as audio_mod
from video2gif.features import extract as extract_mod
from video2gif.features import faces as faces_mod
from video2gif.features.audio import BIN_SECONDS, Loudness, LoudnessCollector, sound_signals
from video2gif.features.backbones import SampleEmbeddings
from video2gif.features.extract import FeatureExtractor, FeatureOptions
from video2gif.features.faces import FaceCollector, FaceTrack, face_signals
from video2gif.features.novelty import novelty, segment_descriptors
from video2gif.segments import Segment

from . import synthetic
from .conftest import media

RATE = 16000


def tone(seconds: float, amplitude: float, freq: float = 440.0) -> np.ndarray:
    t = np.arange(int(seconds * RATE)) / RATE
    return (amplitude * np.sin(2 * np.pi * freq * t)).astype(np.float32)


@pytest.fixture
def burst_video(tmp_path):
    """24 fps, 4 s, a panning texture; AAC sound: quiet hum (amplitude 0.01) with a loud tone
    (0.5) from 2.0 to 2.5 s."""
    sound = tone(4.0, 0.01)
    sound[2 * RATE : int(2.5 * RATE)] = tone(0.5, 0.5)
    gen = synthetic.moving(1)
    return synthetic.write_video(tmp_path / "burst.mp4", [gen(i) for i in range(96)], fps=24,
                                 audio=sound, sample_rate=RATE)


@pytest.fixture
def garbled_audio_video(tmp_path, burst_video):
    """The burst video remuxed with every audio packet's payload replaced by random bytes: the
    container is fine, the AAC track cannot be decoded."""
    out = tmp_path / "garbled.mp4"
    rng = np.random.default_rng(0)
    with av.open(str(burst_video)) as src, av.open(str(out), "w") as dst:
        v_out = dst.add_stream_from_template(src.streams.video[0])
        a_out = dst.add_stream_from_template(src.streams.audio[0])
        for packet in src.demux():
            if packet.dts is None:
                continue
            if packet.stream.type == "audio":
                junk = av.Packet(rng.integers(0, 256, max(8, packet.size), np.uint8).tobytes())
                junk.pts, junk.dts, junk.time_base = packet.pts, packet.dts, packet.time_base
                junk.stream = a_out
                dst.mux(junk)
            else:
                packet.stream = v_out
                dst.mux(packet)
    return out


def frame_count(path) -> int:
    return decode_pass(path, []).frames


# -- audio in the decode pass -------------------------------------------------------------------


class _Record(AudioConsumer):
    def __init__(self):
        self.chunks: list[tuple[float, np.ndarray]] = []
        self.events: list[str] = []

    def start(self, info):
        self.events.append("start")

    def push(self, time, samples):
        self.chunks.append((time, samples))

    def finish(self, info):
        self.events.append("finish")

    def fail(self, reason):
        self.events.append("fail")


def test_audio_arrives_mono_16k_in_time(burst_video):
    rec = _Record()
    info = decode_pass(burst_video, [], audio=[rec])
    assert info.frames == 96 and rec.events == ["start", "finish"]
    times = np.array([t for t, _ in rec.chunks])
    assert np.all(np.diff(times) > 0)
    total = sum(len(s) for _, s in rec.chunks)
    assert abs(total / RATE - 4.0) < 0.2
    assert all(s.dtype == np.float32 and s.ndim == 1 for _, s in rec.chunks)


def test_loudness_finds_the_burst_where_it_is(burst_video):
    loud = LoudnessCollector()
    decode_pass(burst_video, [], audio=[loud])
    db = loud.result.db
    loud_bins = np.nonzero(db > db.max() - 6)[0]
    assert abs(loud_bins[0] * BIN_SECONDS - 2.0) <= 0.1  # AAC delay is compensated
    assert abs((loud_bins[-1] + 1) * BIN_SECONDS - 2.5) <= 0.1
    assert db.max() == pytest.approx(20 * np.log10(0.5 / np.sqrt(2)), abs=1.0)  # -9 dBFS


def test_sound_excitement_ranks_the_loud_moment(burst_video):
    loud = LoudnessCollector()
    decode_pass(burst_video, [], audio=[loud])
    segs = [Segment(0.0, 1.5, 0, 36, 0), Segment(1.8, 3.0, 43, 72, 0)]
    excitement = sound_signals(loud.result, segs)["sound_excitement"]
    assert excitement[0] < 0.6 and excitement[1] == 1.0


def test_video_without_audio_lacks_the_signal(three_shot_video):
    loud = LoudnessCollector()
    info = decode_pass(three_shot_video, [], audio=[loud])
    assert info.frames == 144
    assert loud.result is None and sound_signals(loud.result, [Segment(0, 1, 0, 24, 0)]) == {}


def test_digital_silence_lacks_the_signal(tmp_path):
    gen = synthetic.still(3)
    video = synthetic.write_video(tmp_path / "silent.mp4", [gen(i) for i in range(48)], fps=24,
                                  audio=np.zeros(2 * RATE, np.float32), sample_rate=RATE)
    loud = LoudnessCollector()
    decode_pass(video, [], audio=[loud])
    assert loud.result is not None and loud.result.silent
    assert sound_signals(loud.result, [Segment(0, 1, 0, 24, 0)]) == {}


def test_broken_audio_track_never_breaks_video(garbled_audio_video):
    rec, loud = _Record(), LoudnessCollector()
    with pytest.warns(FeatureWarning, match="audio track unusable"):
        info = decode_pass(garbled_audio_video, [], audio=[rec, loud])
    assert info.frames == frame_count(garbled_audio_video) == 96
    assert rec.events == ["start", "fail", "finish"]
    assert loud.result is None and loud.failure


def test_real_clip_with_failing_audio():
    """moviepy's clip whose audio track fails in other readers: video decoding is untouched,
    and the sound signal is there or, with a warning, absent."""
    path = media("moviepy/video_with_failing_audio.mp4")
    loud = LoudnessCollector()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        info = decode_pass(path, [], audio=[loud])
    assert info.frames == frame_count(path)
    if loud.result is None:
        assert any(issubclass(w.category, FeatureWarning) for w in caught)
    else:
        assert sound_signals(loud.result, [Segment(0, 3, 0, 75, 0)])  # measured


def test_real_clip_with_sound_has_excitement():
    path = media("moviepy/big_buck_bunny_0_30.webm")  # Vorbis
    loud = LoudnessCollector()
    decode_pass(path, [], audio=[loud])
    segs = [Segment(float(s), float(s) + 3, 0, 0, 0) for s in range(0, 27, 3)]
    excitement = sound_signals(loud.result, segs)["sound_excitement"]
    assert excitement.min() < 0.5 < excitement.max()  # relative to the video's own level


def test_sound_signal_scale():
    loud = Loudness(energy=np.array([1e-4] * 10 + [1e-3] * 10 + [1e-2] * 10),
                    counts=np.full(30, 1600))
    segs = [Segment(0.0, 1.0, 0, 24, 0), Segment(1.0, 2.0, 24, 48, 0),
            Segment(2.0, 3.0, 48, 72, 0)]
    np.testing.assert_allclose(sound_signals(loud, segs)["sound_excitement"], [0, 0.5, 1])


# -- faces --------------------------------------------------------------------------------------


def _need_faces():
    reason = faces_mod.face_detection_unavailable()
    if reason:
        pytest.skip(reason)


def test_faces_found_in_a_film_with_faces():
    _need_faces()
    collector = FaceCollector()
    decode_pass(media("opencv/Megamind.avi"), [collector])
    track = collector.result
    assert len(track.times) >= 10  # 1 fps over 11 s
    sig = face_signals(track, [Segment(0.0, 8.0, 0, 192, 0)])
    assert sig["faces"][0] > 0.5 and 0.1 < sig["face_size"][0] <= 1.0


def test_no_faces_in_nature_footage():
    _need_faces()
    collector = FaceCollector()
    decode_pass(media("pyscenedetect/testvideo.mp4"), [collector])
    assert collector.result.counts.sum() == 0


def test_no_faces_in_synthetic_textures(three_shot_video):
    _need_faces()
    collector = FaceCollector()
    decode_pass(three_shot_video, [collector])
    track = collector.result
    np.testing.assert_allclose(track.times, np.arange(0, 6, 1.0), atol=1e-3)
    assert track.counts.sum() == 0


def test_face_signals_per_segment():
    track = FaceTrack(np.arange(0, 4, 0.5), np.array([0, 1, 2, 1, 0, 0, 0, 1]),
                      np.array([0, 0.1, 0.8, 0.2, 0, 0, 0, 0.3]))
    sig = face_signals(track, [Segment(0.0, 2.0, 0, 48, 0), Segment(2.0, 3.0, 48, 72, 0),
                               Segment(3.6, 3.7, 86, 89, 0)])
    np.testing.assert_allclose(sig["faces"], [0.75, 0.0, 1.0])
    np.testing.assert_allclose(sig["face_size"], [(0.25 + 1 + 0.5) / 4, 0.0, 0.75])
    assert face_signals(None, []) == {}


def test_without_opencv_faces_are_off_with_one_warning(monkeypatch):
    monkeypatch.setattr(faces_mod, "_cascade_path", lambda: "OpenCV is not installed")
    monkeypatch.setattr(extract_mod, "_warned", set())
    with pytest.warns(FeatureWarning, match="face signals are off: OpenCV is not installed"):
        extractor = FeatureExtractor(FeatureOptions(backbone="none"))
    assert extractor.consumers() == []
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        FeatureExtractor(FeatureOptions(backbone="none"))  # said once per process


# -- novelty and descriptors --------------------------------------------------------------------


def test_novelty_singles_out_the_unusual_segment():
    rng = np.random.default_rng(0)
    common = rng.uniform(0, 1, 16)
    odd = rng.uniform(0, 1, 16)
    vectors = [common + rng.normal(0, 0.02, 16) for _ in range(30)]
    vectors[20:24] = [odd + rng.normal(0, 0.02, 16) for _ in range(4)]
    times = np.arange(30) * 0.5
    samples = SampleEmbeddings("t", times, times, np.array(vectors, np.float32))
    segs = [Segment(float(s), float(s) + 2, 0, 0, 0) for s in (0, 3, 6, 10, 12)]
    n = novelty(samples, segs)
    assert n.argmax() == 3 and n[3] > 0.8 and n.max() < 1
    assert np.all(n[[0, 1, 2]] < 0.6) and np.all(n >= 0)


def test_novelty_of_a_constant_video_is_zero():
    samples = SampleEmbeddings("t", np.arange(4.0), np.arange(4.0), np.ones((4, 8), np.float32))
    assert novelty(samples, [Segment(0, 2, 0, 0, 0), Segment(2, 4, 0, 0, 0)]).tolist() == [0, 0]


def test_descriptors_are_unit_and_compare_content():
    vectors = np.array([[1, 0, 0], [1, 0, 0], [0, 1, 0], [0, 1, 0]], np.float32)
    samples = SampleEmbeddings("t", np.arange(4.0), np.arange(4.0), vectors)
    d = segment_descriptors(samples, [Segment(0, 2, 0, 0, 0), Segment(2, 4, 0, 0, 0)])
    np.testing.assert_allclose(np.linalg.norm(d, axis=1), 1, rtol=1e-6)
    assert float(d[0] @ d[1]) == pytest.approx(0.0, abs=1e-6)


# -- the stage as a whole -----------------------------------------------------------------------


def test_extractor_gives_every_signal_from_one_pass(burst_video):
    extractor = FeatureExtractor(FeatureOptions())
    extractor.prepare(burst_video)
    info = decode_pass(burst_video, extractor.consumers(), audio=extractor.audio_consumers())
    segs = [Segment(0.0, 1.5, 0, 36, 0), Segment(1.8, 3.0, 43, 72, 0)]
    signals = extractor.signals(segs)
    expected = {"sound_excitement", "novelty"}
    if faces_mod.face_detection_unavailable() is None:
        expected |= {"faces", "face_size"}
    assert set(signals) == expected and info.frames == 96
    for values in signals.values():
        assert values.shape == (2,) and np.all((values >= 0) & (values <= 1))
    assert extractor.embeddings(segs)["efficientnet-lite0"].shape == (2, 2560)
    assert extractor.descriptors(segs).shape == (2, 1280)


def test_loudness_bins_grow_with_long_audio():
    loud = LoudnessCollector()
    loud.start(None)
    for second in range(120):  # two minutes, pushed in one-second chunks
        loud.push(float(second), np.full(RATE, 0.1, np.float32))
    loud.finish(None)
    assert len(loud.result.energy) == 1200
    np.testing.assert_allclose(loud.result.energy, 0.01, rtol=1e-6)
    assert audio_mod.SILENCE_DB < loud.result.db.min()


def test_signals_reach_the_report_and_the_prior(burst_video):
    """Through the pipeline: every candidate carries the new signals in segments.json, and with
    the picture the same throughout, the candidate holding the loud burst ranks first."""
    import video2gif
    from video2gif.report import segments_document
    from video2gif.segments import SegmentOptions

    found = video2gif.find_highlights(
        burst_video, k=1, segment_options=SegmentOptions(length=1.0, min_length=0.5,
                                                         max_length=1.0, stride=1.0),
        features=FeatureOptions())
    doc = segments_document(found)
    for seg in doc["segments"]:
        assert {"sound_excitement", "novelty"} <= set(seg["signals"])
    best = found.picks[0]
    assert best.start < 2.5 and best.end > 2.0  # overlaps the burst at 2.0-2.5 s
    assert best.signals["sound_excitement"] == 1.0
