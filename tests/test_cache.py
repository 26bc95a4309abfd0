"""Feature cache: content fingerprints, exact round trips, corrupt and stale entries rebuilt,
atomic writes, and the features stage (and the CLI) served from it without a second decode."""

from __future__ import annotations

import json
import shutil
import time
import warnings
import zipfile

import numpy as np
import pytest
from click.testing import CliRunner

from video2gif.cli import cli
from video2gif.errors import CacheWarning
from video2gif.features import cache as cache_mod
from video2gif.features.cache import (
    FINGERPRINT_BLOCK,
    CacheKey,
    FeatureCache,
    default_cache_dir,
    fingerprint,
)
from video2gif.features.efficientnet import EfficientNetLite0Backbone
from video2gif.features.extract import FeatureExtractor, FeatureOptions
from video2gif.decode import decode_pass
from video2gif.segments import Segment

ARRAYS = {"times": np.arange(5, dtype=np.float64) / 2,
          "vectors": np.random.default_rng(0).normal(size=(5, 7)).astype(np.float32),
          "counts": np.array([0, 1, 2, 0, 1], np.int32)}


@pytest.fixture
def key() -> CacheKey:
    return CacheKey.from_fingerprint("ab" * 32, backbone="efficientnet-lite0/1/x", fps=2.0)


# -- fingerprints ------------------------------------------------------------------------------


def test_fingerprint_follows_content_not_name(tmp_path):
    a = tmp_path / "a.mp4"
    a.write_bytes(b"video bytes" * 1000)
    b = tmp_path / "renamed copy.mkv"
    shutil.copyfile(a, b)
    assert fingerprint(a) == fingerprint(b)
    b.write_bytes(b"video bytes" * 999 + b"video bytez")
    assert fingerprint(a) != fingerprint(b)


def test_fingerprint_of_a_large_file_reads_three_blocks(tmp_path):
    data = bytearray(np.random.default_rng(1).integers(0, 256, 8 * FINGERPRINT_BLOCK,
                                                       dtype=np.uint8).tobytes())
    path = tmp_path / "big.bin"
    path.write_bytes(data)
    base = fingerprint(path)
    for offset in (10, len(data) // 2, len(data) - 10):  # first, middle and last MiB
        changed = bytearray(data)
        changed[offset] ^= 0xFF
        path.write_bytes(changed)
        assert fingerprint(path) != base
    path.write_bytes(data + b"x")  # size is part of it
    assert fingerprint(path) != base


def test_default_folder_respects_xdg(monkeypatch, tmp_path):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert default_cache_dir() == tmp_path / "video2gif" / "features"
    assert FeatureCache().root == tmp_path / "video2gif" / "features"


# -- entries -----------------------------------------------------------------------------------


def test_round_trip_is_exact(tmp_path, key):
    cache = FeatureCache(tmp_path)
    path = cache.save(key, ARRAYS, {"duration": 12.5, "note": "x"})
    assert path.parent.parent == tmp_path and path.suffix == ".npz"
    entry = cache.load(key)
    assert set(entry.arrays) == set(ARRAYS)
    for name, a in ARRAYS.items():
        np.testing.assert_array_equal(entry.arrays[name], a)
        assert entry.arrays[name].dtype == a.dtype
    assert entry.meta == {"duration": 12.5, "note": "x"}
    assert list(tmp_path.rglob("*.tmp")) == []  # written under a temporary name, renamed


def test_other_parameters_are_another_entry(tmp_path, key):
    cache = FeatureCache(tmp_path)
    cache.save(key, ARRAYS)
    assert cache.load(CacheKey.from_fingerprint(key.video, backbone="efficientnet-lite0/1/x",
                                                fps=4.0)) is None
    assert cache.load(CacheKey.from_fingerprint("cd" * 32, backbone="efficientnet-lite0/1/x",
                                                fps=2.0)) is None
    same = CacheKey.from_fingerprint(key.video, fps=2.0, backbone="efficientnet-lite0/1/x")
    assert cache.load(same) is not None  # parameter order does not matter


def test_truncated_entry_is_rebuilt(tmp_path, key):
    cache = FeatureCache(tmp_path)
    path = cache.save(key, ARRAYS)
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    with pytest.warns(CacheWarning, match="unreadable.*rebuilding"):
        assert cache.load(key) is None
    assert not path.exists()


def test_tampered_array_fails_its_checksum(tmp_path, key):
    cache = FeatureCache(tmp_path)
    path = cache.save(key, ARRAYS)
    with np.load(path) as data:
        arrays = {name: data[name] for name in data.files}
    arrays["vectors"] = arrays["vectors"].copy()
    arrays["vectors"][2, 3] += 1.0  # same shape and dtype, different numbers
    np.savez(path, **arrays)
    with pytest.warns(CacheWarning, match="array vectors fails its checksum"):
        assert cache.load(key) is None


def _rewrite_header(path, change):
    with np.load(path) as data:
        arrays = {name: data[name] for name in data.files}
    header = json.loads(bytes(arrays["__header__"]).decode())
    change(header)
    arrays["__header__"] = np.frombuffer(json.dumps(header).encode(), np.uint8)
    np.savez(path, **arrays)


def test_entry_of_another_format_version_is_stale(tmp_path, key):
    cache = FeatureCache(tmp_path)
    path = cache.save(key, ARRAYS)
    _rewrite_header(path, lambda h: h.update(format=cache_mod.CACHE_FORMAT + 1))
    with pytest.warns(CacheWarning, match="stale"):
        assert cache.load(key) is None


def test_entry_under_the_wrong_name_is_not_trusted(tmp_path, key):
    cache = FeatureCache(tmp_path)
    other = CacheKey.from_fingerprint("cd" * 32, backbone="efficientnet-lite0/1/x", fps=2.0)
    path = cache.save(other, ARRAYS)
    target = cache.path(key)
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(path, target)
    with pytest.warns(CacheWarning, match="another video or other parameters"):
        assert cache.load(key) is None


def test_not_a_zip_is_rebuilt(tmp_path, key):
    cache = FeatureCache(tmp_path)
    path = cache.path(key)
    path.parent.mkdir(parents=True)
    path.write_text("garbage")
    with pytest.warns(CacheWarning):
        assert cache.load(key) is None


def test_unwritable_folder_warns_and_goes_on(tmp_path, key):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    with pytest.warns(CacheWarning, match="could not write"):
        assert FeatureCache(blocker).save(key, ARRAYS) is None


def test_entries_hold_no_pickles(tmp_path, key):
    path = FeatureCache(tmp_path).save(key, ARRAYS)
    with zipfile.ZipFile(path) as z:
        assert sorted(z.namelist()) == sorted(f"{n}.npy" for n in [*ARRAYS, "__header__"])
    with np.load(path, allow_pickle=False) as data:  # readable without allow_pickle
        assert data["__header__"].dtype == np.uint8


# -- the features stage through the cache ----------------------------------------------------


def _run(extractor: FeatureExtractor, video) -> bool:
    hit = extractor.prepare(video)
    if not hit:
        decode_pass(video, extractor.consumers(), audio=extractor.audio_consumers())
        extractor.save_cached()
    return hit


def test_second_run_needs_no_decode(tmp_path, three_shot_video, monkeypatch):
    cache = FeatureCache(tmp_path / "cache")
    segs = [Segment(0.0, 2.0, 0, 48, 0), Segment(2.2, 3.8, 53, 91, 1)]
    first = FeatureExtractor(FeatureOptions(), cache=cache)
    assert _run(first, three_shot_video) is False
    before = (first.signals(segs), first.embeddings(segs))

    def no_encoding(self, batch):
        raise AssertionError("the backbone ran again")

    monkeypatch.setattr(EfficientNetLite0Backbone, "encode", no_encoding)
    second = FeatureExtractor(FeatureOptions(), cache=cache)
    assert _run(second, three_shot_video) is True
    assert second.consumers() == [] and second.audio_consumers() == []
    after = (second.signals(segs), second.embeddings(segs))
    for a, b in zip(before, after):
        assert a.keys() == b.keys()
        for name in a:
            np.testing.assert_array_equal(a[name], b[name])


def test_changed_sampling_rate_is_a_miss(tmp_path, three_shot_video):
    cache = FeatureCache(tmp_path)
    assert _run(FeatureExtractor(FeatureOptions(), cache=cache), three_shot_video) is False
    assert _run(FeatureExtractor(FeatureOptions(fps=4.0), cache=cache), three_shot_video) is False
    assert _run(FeatureExtractor(FeatureOptions(), cache=cache), three_shot_video) is True


def test_corrupt_entry_is_rebuilt_by_the_stage(tmp_path, three_shot_video):
    cache = FeatureCache(tmp_path)
    extractor = FeatureExtractor(FeatureOptions(), cache=cache)
    _run(extractor, three_shot_video)
    entry = cache.path(extractor.cache_key(three_shot_video))
    entry.write_bytes(entry.read_bytes()[:-200])
    with pytest.warns(CacheWarning):
        assert _run(extractor, three_shot_video) is False  # decoded again, written again
    assert _run(extractor, three_shot_video) is True


def test_cli_uses_the_cache_folder(tmp_path, three_shot_video, monkeypatch):
    folder = tmp_path / "features"
    args = ["segments", str(three_shot_video), "--json", "--cache", str(folder)]
    first = CliRunner().invoke(cli, args, standalone_mode=False, catch_exceptions=False)
    assert len(list(folder.rglob("*.npz"))) == 1

    def no_encoding(self, batch):
        raise AssertionError("the backbone ran again")

    monkeypatch.setattr(EfficientNetLite0Backbone, "encode", no_encoding)
    second = CliRunner().invoke(cli, args, standalone_mode=False, catch_exceptions=False)
    assert json.loads(second.stdout)["segments"] == json.loads(first.stdout)["segments"]


def test_cli_no_cache_writes_nothing(tmp_path, three_shot_video, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    result = CliRunner().invoke(cli, ["segments", str(three_shot_video), "--no-cache"],
                                standalone_mode=False, catch_exceptions=False)
    assert result.exit_code == 0 and not (tmp_path / "xdg").exists()


# -- the size cap (least recently used entries go first) ---------------------------------------

BIG = {"vectors": np.random.default_rng(3).normal(size=(1000, 64)).astype(np.float32)}  # 256 kB


def _keys(n: int) -> list[CacheKey]:
    return [CacheKey.from_fingerprint(f"{i:02x}" * 32, backbone="b/1/x", fps=2.0)
            for i in range(n)]


def _entry_bytes(tmp_path) -> int:
    return FeatureCache(tmp_path / "probe").save(_keys(1)[0], BIG).stat().st_size


def _total(cache: FeatureCache) -> int:
    return sum(p.stat().st_size for p in cache.root.rglob("*.npz"))


def test_the_cache_stays_under_its_cap_dropping_the_least_recently_used(tmp_path):
    """The user-level cache was unbounded: now it keeps under ``max_bytes``; reading an entry
    counts as using it."""
    size = _entry_bytes(tmp_path)
    cache = FeatureCache(tmp_path / "c", max_bytes=int(3.5 * size))
    keys = _keys(4)
    for key in keys[:3]:
        cache.save(key, BIG)
        time.sleep(0.05)  # file times are only as fine as the kernel's clock tick
    assert cache.load(keys[0]) is not None  # used: now the most recent but one
    time.sleep(0.05)
    cache.save(keys[3], BIG)
    assert _total(cache) <= 3.5 * size
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # an evicted entry is a plain miss, not a corrupt one
        assert cache.load(keys[1]) is None
    assert all(cache.load(k) is not None for k in (keys[0], keys[2], keys[3]))


def test_the_entry_just_written_stays_even_over_the_cap(tmp_path):
    cache = FeatureCache(tmp_path, max_bytes=1)
    keys = _keys(2)
    cache.save(keys[0], BIG)
    cache.save(keys[1], BIG)
    assert cache.load(keys[0]) is None and cache.load(keys[1]) is not None


def test_the_cap_has_a_default_and_a_flag(tmp_path):
    from video2gif.features.cache import MAX_BYTES
    from video2gif.options import GifOptions

    assert 10**9 <= MAX_BYTES <= 20 * 10**9  # a few GB
    assert FeatureCache(tmp_path).max_bytes == MAX_BYTES
    unbounded = FeatureCache(tmp_path, max_bytes=0)
    for key in _keys(3):
        unbounded.save(key, BIG)
    assert len(list(tmp_path.rglob("*.npz"))) == 3  # 0: no cap
    options = GifOptions(cache_dir=str(tmp_path), cache_max=5_000_000)
    assert options.validate(check_model=False).feature_extractor().cache.max_bytes == 5_000_000
    assert options.digest() == GifOptions(cache_dir=str(tmp_path)).digest()
    help_text = CliRunner().invoke(cli, ["make", "--help"]).output
    assert "--cache-max" in help_text
