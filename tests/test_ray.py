"""video2gif batch --engine ray, on a real local Ray instance started by the test session."""

from __future__ import annotations

import dataclasses
import json

import pytest

from video2gif.batch import Manifest, find_inputs, run_batch
from video2gif.cli import main

from .test_batch import FAST, SETTINGS, clip

ray = pytest.importorskip("ray", reason="Ray is an extra: pip install 'video2gif[ray]'")

# Ray's workers start with the environment of ray.init, not the test's; keep them out of the
# user's feature cache.
NO_CACHE = dataclasses.replace(SETTINGS, use_cache=False)


@pytest.fixture(scope="module")
def local_ray():
    """A Ray instance on this machine with 2 CPUs, shared by this module's tests."""
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    yield ray
    ray.shutdown()


@pytest.fixture
def videos(tmp_path):
    """Two good clips in nested folders and one truncated after its header."""
    folder = tmp_path / "videos"
    clip(folder / "a.mp4", 31)
    clip(folder / "deep" / "b.mp4", 32)
    (folder / "broken.mp4").write_bytes(clip(tmp_path / "whole.mp4", 33).read_bytes()[:600])
    return folder


def test_ray_makes_the_same_outputs_and_manifest_as_local(local_ray, videos, tmp_path):
    on_ray = run_batch(videos, tmp_path / "ray", NO_CACHE, workers=2, engine="ray")
    assert (on_ray.done, on_ray.failed, on_ray.skipped) == (2, 1, 0)
    broken = [r for r in on_ray.records if r["status"] == "failed"]
    assert len(broken) == 1 and broken[0]["input"].endswith("broken.mp4")
    assert broken[0]["error"].split(":")[0] in ("InputError", "DecodeError")

    local = run_batch(videos, tmp_path / "local", NO_CACHE, workers=2, engine="local")

    def outcome(summary):
        return {r["input"]: (r["status"], r["content"], r["settings"], r["folder"], r["outputs"],
                             [(p["start"], p["end"], p["score"]) for p in r.get("picks", [])])
                for r in summary.records}

    assert outcome(on_ray) == outcome(local)
    for r in on_ray.records:
        for output in r["outputs"]:
            assert (tmp_path / "ray" / output).read_bytes()[:6] == b"GIF89a"
    assert len(Manifest(tmp_path / "ray" / "manifest.jsonl").records()) == 3

    # Resumed on Ray: the done videos are skipped, the broken one is tried again.
    again = run_batch(find_inputs(videos), tmp_path / "ray", NO_CACHE, engine="ray")
    assert (again.done, again.failed, again.skipped) == (0, 1, 2)


def test_ray_from_the_command_line(local_ray, videos, tmp_path, capsys):
    """With Ray already initialised, --engine ray uses it (as on a cluster node)."""
    out = tmp_path / "out"
    with pytest.raises(SystemExit) as exit_info:
        main(["batch", str(videos), "-o", str(out), "--engine", "ray", "--workers", "2",
              "--no-cache", *FAST])
    err = capsys.readouterr().err
    assert exit_info.value.code == 1, err
    assert "2 done, 1 failed, 0 skipped" in err and "Skipping " in err
    lines = [json.loads(line) for line in (out / "manifest.jsonl").read_text().splitlines()]
    assert sorted(r["status"] for r in lines) == ["done", "done", "failed"]
    assert (out / "deep" / "b" / "segments.json").is_file()
    assert ray.is_initialized()  # not shut down: it was not this batch's own
