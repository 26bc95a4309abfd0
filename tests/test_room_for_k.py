"""`make -k 3` on every shared clip longer than 9 s: three GIFs, apart in time, each a sensible
length, with the reason for any fallback pick in segments.json (issue 11: k picks whenever the
video has room for k). Skipped when ../shared/media is absent.

The one exception is pyscenedetect/fades.mp4: a blank white screen fading in and out three
times, the same content shown again, so its repeats must be reported as duplicates instead.
"""

from __future__ import annotations

import itertools
import json

import av
import pytest

import video2gif
from video2gif.formats import VIDEO_EXTENSIONS
from video2gif.options import GifOptions
from video2gif.segments import FALLBACK_MIN_SECONDS, MIN_SECONDS, SHORT

from .conftest import MEDIA

K = 3
LONGER_THAN = 9.0  # seconds: the clips the target is about
REPEATS = {"pyscenedetect/fades.mp4"}  # one moment shown three times


def _clips() -> list[str]:
    if not MEDIA.is_dir():
        return []
    return sorted(p.relative_to(MEDIA).as_posix() for p in MEDIA.glob("*/*")
                  if p.suffix.lower() in VIDEO_EXTENSIONS)


def _duration(path) -> float:
    with av.open(str(path)) as container:
        return (container.duration or 0) / av.time_base


@pytest.mark.parametrize("clip", _clips() or [pytest.param("-", marks=pytest.mark.skip(
    reason=f"no shared media in {MEDIA}"))])
def test_make_k_3_gives_3_gifs_apart(clip, tmp_path):
    path = MEDIA / clip
    if _duration(path) <= LONGER_THAN:
        pytest.skip(f"{clip} is not longer than {LONGER_THAN:g} s")
    made = video2gif.make_gifs(path, tmp_path, options=GifOptions(k=K, width=160))
    doc = json.loads((made.folder / "segments.json").read_text())
    picks = sorted((s for s in doc["segments"] if s["pick"]), key=lambda s: s["cut"]["start"])
    assert len(picks) == len(made.outputs)
    assert all(o.path.is_file() and o.path.stat().st_size > 0 for o in made.outputs)
    if clip in REPEATS:
        repeats = [s for s in doc["segments"]
                   if (s.get("suppressed") or {}).get("reason") == "duplicate"]
        assert len(picks) + len(repeats) >= K and repeats, "the repeats must be reported"
        assert all(r["suppressed"]["pick"] in {p["pick"] for p in picks} for r in repeats)
    else:
        assert len(made.outputs) == K
    for a, b in itertools.pairwise(picks):
        assert a["cut"]["end"] <= b["cut"]["start"] + 1e-3, "GIFs overlap"
    for p in picks:
        length = p["cut"]["end"] - p["cut"]["start"]
        kind = (p.get("fallback") or {}).get("kind")
        shortest = FALLBACK_MIN_SECONDS if kind == SHORT else MIN_SECONDS
        assert length >= shortest - 0.05, f"pick {p['pick']} lasts {length:.2f} s"
        if kind:
            assert p["fallback"]["why"]
