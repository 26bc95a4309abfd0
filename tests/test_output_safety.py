"""What ``make`` and ``batch`` do with their output folder when it is not as expected (read-only,
under a file, the result name taken by a file or a link), what a killed batch leaves in its
manifest, and what segments.json says about the features behind its scores.

Each test is the regression test of one defect found from outside.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from video2gif.batch import find_inputs, run_batch

from .conftest import run_cli as run
from .test_batch import FAST, SETTINGS, clip, leftovers


@pytest.fixture(scope="module")
def video(tmp_path_factory) -> Path:
    """A 3 s synthetic clip, 160×96: a pan cut to a still."""
    return clip(tmp_path_factory.mktemp("outputs") / "clip.mp4", 71)


@pytest.fixture
def one_line_errors(monkeypatch):
    """The CLI's error contract as users see it (the tests may set VIDEO2GIF_DEBUG)."""
    monkeypatch.delenv("VIDEO2GIF_DEBUG", raising=False)


def _writable(folder: Path) -> bool:
    probe = folder / ".probe"
    try:
        probe.mkdir()
    except OSError:
        return False
    probe.rmdir()
    return True


@pytest.fixture
def read_only_folder(tmp_path):
    """An existing folder nothing can be written into: mode 0555, or, for root (whom modes do
    not stop), a read-only tmpfs mounted over it; skipped where neither works."""
    folder = tmp_path / "read-only"
    folder.mkdir()
    folder.chmod(0o555)
    mounted = False
    if _writable(folder):
        r = subprocess.run(["mount", "-t", "tmpfs", "-o", "ro,size=64k", "tmpfs", str(folder)],
                           capture_output=True, check=False)
        mounted = r.returncode == 0
        if not mounted or _writable(folder):
            if mounted:
                subprocess.run(["umount", str(folder)], check=False)
            folder.chmod(0o755)
            pytest.skip("cannot make a read-only folder here (root, and no tmpfs mount)")
    yield folder
    if mounted:
        subprocess.run(["umount", str(folder)], check=True)
    folder.chmod(0o755)


def _one_line_error(err: str, path: Path) -> None:
    assert "Traceback" not in err, err
    lines = [line for line in err.splitlines() if line.startswith("video2gif: error: ")]
    assert len(lines) == 1, err
    assert lines[0].startswith(f"video2gif: error: {path}: "), err


# -- 3: an unwritable output folder -------------------------------------------------------------


def test_make_into_a_read_only_folder_is_a_one_line_error(capsys, one_line_errors, video,
                                                          read_only_folder):
    """Defect 3: ``make clip.mp4 -o DIR`` with DIR a read-only mount gave a traceback."""
    code, _, err = run(capsys, "make", video, "-o", read_only_folder, *FAST)
    assert code == 1
    _one_line_error(err, read_only_folder)
    assert list(read_only_folder.iterdir()) == []


def test_make_under_a_file_is_a_one_line_error(capsys, one_line_errors, video, tmp_path):
    """Defect 3, without privileges: OUTDIR below a file cannot be created either."""
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    code, _, err = run(capsys, "make", video, "-o", blocker / "out", *FAST)
    assert code == 1
    _one_line_error(err, blocker / "out")


def test_batch_into_a_read_only_folder_is_a_one_line_error(capsys, one_line_errors, video,
                                                           read_only_folder):
    """Defect 3: ``batch`` into a read-only OUTDIR failed on its lock file with a traceback."""
    code, _, err = run(capsys, "batch", video.parent, "-o", read_only_folder, *FAST)
    assert code == 1
    _one_line_error(err, read_only_folder / ".manifest.lock")


def test_batch_with_its_manifest_under_a_file_is_a_one_line_error(capsys, one_line_errors,
                                                                  video, tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    manifest = blocker / "m.jsonl"
    code, _, err = run(capsys, "batch", video.parent, "-o", tmp_path / "out", "--manifest",
                       manifest, *FAST)
    assert code == 1
    _one_line_error(err, manifest.with_name(".m.jsonl.lock"))


def test_batch_into_a_folder_under_a_file_is_a_one_line_error(capsys, one_line_errors, video,
                                                               tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    code, _, err = run(capsys, "batch", video.parent, "-o", blocker / "out", *FAST)
    assert code == 1
    _one_line_error(err, blocker / "out")


# -- 4: the result's name is taken ---------------------------------------------------------------


@pytest.mark.parametrize("taken_by", ["file", "link to a folder", "dangling link"])
def test_make_replaces_a_file_or_link_in_its_way_and_leaves_nothing_behind(capsys, video,
                                                                           tmp_path, taken_by):
    """Defect 4: with OUTDIR/STEM a file or a symlink, ``make`` left ``.STEM.old-XXXX``."""
    out = tmp_path / "out"
    out.mkdir()
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "keep.txt").write_text("mine")
    target = out / video.stem
    if taken_by == "file":
        target.write_text("in the way")
    elif taken_by == "link to a folder":
        target.symlink_to(elsewhere, target_is_directory=True)
    else:
        target.symlink_to(tmp_path / "nowhere")
    code, _, err = run(capsys, "make", video, "-o", out, *FAST)
    assert code == 0, err
    assert target.is_dir() and not target.is_symlink()
    assert (target / "segments.json").is_file()
    assert sorted(p.name for p in out.iterdir()) == [video.stem]
    assert leftovers(out) == []
    assert (elsewhere / "keep.txt").read_text() == "mine"  # a link's target is not touched


# -- 10: a torn manifest line ---------------------------------------------------------------------


def _strict_records(manifest: Path) -> list[dict]:
    """Every line of a JSON-lines file as JSON: what a strict reader demands."""
    return [json.loads(line) for line in manifest.read_text(encoding="utf-8").splitlines()]


EARLIER = {"input": "/videos/earlier.mp4", "status": "failed", "error": "InputError: x",
           "outputs": []}


@pytest.mark.parametrize("torn_at", ["end", "middle"])
def test_a_torn_manifest_line_is_repaired_on_the_next_run(tmp_path, torn_at):
    """Defect 10: the half line a killed batch leaves stayed in the middle of manifest.jsonl
    once the next run appended after it, so strict JSON-lines readers failed on the file."""
    videos = tmp_path / "videos"
    clip(videos / "a.mp4", 72)
    out = tmp_path / "out"
    out.mkdir()
    manifest = out / "manifest.jsonl"
    torn = '{"input": "/videos/half.mp4", "status": "do'
    good = json.dumps(EARLIER)
    text = f"{good}\n{torn}" if torn_at == "end" else f"{good}\n{torn}\n{good}\n"
    manifest.write_text(text, encoding="utf-8")
    summary = run_batch(find_inputs(videos), out, SETTINGS, workers=1)
    assert summary.done == 1
    records = _strict_records(manifest)
    assert records[0] == EARLIER and records[-1]["status"] == "done"
    assert len(records) == (2 if torn_at == "end" else 3)
    assert [p.name for p in out.iterdir() if p.name.startswith(".manifest")] in (
        [], [".manifest.lock"])  # no temporary file left beside it


def test_an_intact_manifest_is_not_rewritten(tmp_path):
    videos = tmp_path / "videos"
    clip(videos / "a.mp4", 73)
    out = tmp_path / "out"
    out.mkdir()
    manifest = out / "manifest.jsonl"
    manifest.write_text(json.dumps(EARLIER) + "\n", encoding="utf-8")
    inode = manifest.stat().st_ino
    run_batch(find_inputs(videos), out, SETTINGS, workers=1)
    assert manifest.stat().st_ino == inode  # appended to, never replaced
    assert _strict_records(manifest)[0] == EARLIER


# -- 11: which features were computed ---------------------------------------------------------------


def test_segments_json_says_which_features_were_computed(video):
    """Defect 11: segments.json did not say which backbone (name, version, weights hash) and
    sampling made the features behind its scores, so a result could not be reproduced."""
    from video2gif import find_highlights
    from video2gif.features.backbones import SAMPLE_FPS
    from video2gif.features.efficientnet import WEIGHTS_SHA256
    from video2gif.features.extract import FEATURES_VERSION, FeatureOptions
    from video2gif.report import segments_document

    found = find_highlights(video, k=1, model="prior",
                            features=FeatureOptions(backbone="efficientnet-lite0"))
    block = segments_document(found)["features"]
    json.dumps(block)  # plain JSON
    assert block["version"] == FEATURES_VERSION
    backbone = block["backbone"]
    assert backbone["name"] == "efficientnet-lite0" and backbone["version"]
    assert WEIGHTS_SHA256.startswith(backbone["weights"]) and len(backbone["weights"]) >= 16
    assert backbone["frames"]["fps"] == SAMPLE_FPS
    assert backbone["frames"]["width"] == backbone["frames"]["height"] == 224
    assert backbone["frames"]["interpolation"]
    assert "audio" in block and "faces" in block


def test_segments_json_of_make_records_the_features_too(capsys, video, tmp_path):
    code, _, err = run(capsys, "make", video, "-o", tmp_path, *FAST)
    assert code == 0, err
    doc = json.loads((tmp_path / video.stem / "segments.json").read_text())
    assert doc["features"]["backbone"] is None  # --backbone none: the cheap signals only
    assert doc["features"]["audio"]["rate"] > 0


@pytest.fixture(autouse=True)
def _restore_modes(tmp_path):
    """pytest removes tmp_path later: leave nothing unwritable in it."""
    yield
    for root, dirs, _ in os.walk(tmp_path):
        for d in dirs:
            path = Path(root) / d
            if not path.is_symlink() and not os.path.ismount(path):
                path.chmod(0o755)
