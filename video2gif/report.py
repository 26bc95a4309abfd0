"""Report writers: segments.json (every candidate and its score) and index.html (a contact sheet).

Both take a :class:`~video2gif.pipeline.Highlights` and a mapping from segment index to the file
written for it. index.html is self-contained: inline CSS and SVG, no scripts or outside assets;
it shows the outputs in rank order above a timeline of every candidate's score.

Example:
    >>> doc = segments_document(found, {3: "01.gif"})  # doctest: +SKIP
    >>> doc["pred_relevant_windows"][0]  # doctest: +SKIP
    [11.9, 14.9, 0.71]
"""

from __future__ import annotations

import html
import json
import os
from typing import TYPE_CHECKING

from ._io import json_score, json_seconds, write_text_atomic
from ._version import __version__
from .formats import format_of_file

if TYPE_CHECKING:
    from .crop import CropPath
    from .features.extract import FeatureExtractor
    from .loop import LoopReport
    from .pipeline import Highlights

TIMELINE_WIDTH, TIMELINE_HEIGHT = 960, 180  # SVG user units
_PAD = 28


def segments_document(found: Highlights, outputs: dict[int, str] | None = None,
                      loops: dict[int, LoopReport] | None = None,
                      crops: dict[int, CropPath | None] | None = None) -> dict:
    """The segments.json document (schema in DESIGN.md).

    ``pred_relevant_windows`` lists every scored candidate as [start, end, score], best first, the
    convention of highlight-detection tools (QVHighlights, Lighthouse). A pick also has ``cut``
    (its GIF's boundaries and why they moved) and, once encoded, ``loop`` (how it loops: the
    seam figure) and ``crop`` when cropped (its aspect, box size, and box per frame: see
    :meth:`~video2gif.crop.CropPath.to_dict`); a candidate left out although it scored above a
    pick has ``suppressed`` (the pick it lost to, and why). ``features`` says what measured the
    features behind the scores (see :func:`features_block`).
    """
    outputs = outputs or {}
    picked = {i: n for n, i in enumerate(found.pick_indices, start=1)}
    segments = []
    for i, s in enumerate(found.segments):
        segments.append({
            "start": json_seconds(s.start),
            "end": json_seconds(s.end),
            "start_frame": s.start_frame,
            "end_frame": s.end_frame,
            "shot": s.shot,
            "score": json_score(s.score),
            "rank": s.rank,
            "pick": picked.get(i),
            "signals": s.signals,
            "output": outputs.get(i),
            **_selection_fields(found, i, picked, loops or {}),
            **({"crop": crops[i].to_dict()} if crops and crops.get(i) else {}),
            **({"fallback": {"kind": s.fallback, "why": fallback_why(found, i)}}
               if s.fallback else {}),
        })
    windows = sorted(  # candidates only: fallbacks are scored on their own scale
        ([json_seconds(s.start), json_seconds(s.end), json_score(s.score)]
         for s in found.segments if s.score is not None and not s.fallback),
        key=lambda w: -w[2],
    )
    return {
        "video": found.info.to_dict(),
        "model": found.model,
        "features": found.features or None,
        "generator": f"video2gif {__version__}",
        "shots": [s.to_dict() for s in found.shots],
        "dropped_shots": found.dropped_shots,
        "segments": segments,
        "pred_relevant_windows": windows,
    }


def fallback_why(found: Highlights, i: int) -> str:
    """Why the fallback candidate ``i`` was offered (and picked, if it is a pick), in words."""
    from .segments import FALLBACK_WHY

    kind = found.segments[i].fallback
    normal = sum(1 for j in found.pick_indices if not found.segments[j].fallback)
    gave = f"{normal} distinct pick{'s' * (normal != 1)}" if normal else "no pick"
    return (f"{FALLBACK_WHY.get(kind, kind)}; offered because the candidates gave {gave}, "
            f"fewer than asked")


def features_block(extractor: FeatureExtractor) -> dict:
    """segments.json's ``features``: what measured the features, so a result can be reproduced.

    ``backbone`` is its name, version, weights hash (``weights``), output size, frame sampling
    (``frames``: rate, size, clip length, stride, scaler) and pooling, or None without one;
    ``faces`` and ``audio`` are those detectors' settings (None when off); ``version`` is the
    features stage's own (:data:`~video2gif.features.extract.FEATURES_VERSION`).
    """
    params = extractor.cache_params()
    backbone = extractor.backbone
    return {
        "version": params["features"],
        "backbone": None if backbone is None else {
            **backbone.describe(), "weights": backbone.weights_id or None,
            "id": backbone.cache_id},
        "faces": params["faces"],
        "audio": params["audio"],
    }


def _selection_fields(found: Highlights, i: int, picked: dict[int, int],
                      loops: dict[int, LoopReport]) -> dict:
    """``cut`` and ``loop`` of a pick, ``suppressed`` of a candidate left out."""
    out: dict = {}
    cuts = found.cuts
    if i in picked and len(cuts) >= picked[i]:
        out["cut"] = cuts[picked[i] - 1].to_dict()
    if i in loops and loops[i] is not None:
        out["loop"] = loops[i].to_dict()
    left_out = found.suppressed.get(i)
    if left_out is not None:
        out["suppressed"] = left_out.to_dict(picked.get(left_out.pick))
    return out


def write_segments_json(
    found: Highlights, path: str | os.PathLike, outputs: dict[int, str] | None = None,
    loops: dict[int, LoopReport] | None = None,
    crops: dict[int, CropPath | None] | None = None,
) -> None:
    """Write segments.json atomically (``loops``: each encoded pick's LoopReport; ``crops``:
    each cropped pick's CropPath)."""
    text = json.dumps(segments_document(found, outputs, loops, crops), indent=2,
                      ensure_ascii=False)
    write_text_atomic(path, text + "\n")


def write_index_html(
    found: Highlights, path: str | os.PathLike, outputs: dict[int, str] | None = None,
    loops: dict[int, LoopReport] | None = None,
    crops: dict[int, CropPath | None] | None = None,
) -> None:
    """Write index.html atomically: the outputs in rank order, then the score timeline."""
    write_text_atomic(path, index_html(found, outputs or {}, loops, crops))


def _clock(seconds: float) -> str:
    m, s = divmod(max(seconds, 0.0), 60)
    return f"{int(m):02d}:{s:04.1f}"


def _loop_caption(found: Highlights, n: int, i: int, loops: dict[int, LoopReport]) -> str:
    """The GIF's own span when its cut moved, and how it loops (mode, seam), as HTML."""
    parts = []
    cuts = found.cuts
    if len(cuts) >= n and cuts[n - 1].why != "as ranked":
        cut = cuts[n - 1]
        parts.append(f"GIF {_clock(cut.start)}–{_clock(cut.end)}: {html.escape(cut.why)}")
    report = loops.get(i)
    if report is not None:
        steps = report.seam_ratio
        text = f"loop {report.mode} · seam {report.seam:.1f}"
        if steps != float("inf"):
            text += f" ({steps:.1f}× a typical step)"
        if report.crossfade_frames:
            text += f" · cross-fade {report.crossfade_frames} frames"
        parts.append(text)
    return "".join(f"<div class=loop>{p}</div>" for p in parts)


def _left_out(found: Highlights) -> str:
    """A collapsed list of the look-alikes left out, with their reasons."""
    picked = {i: n for n, i in enumerate(found.pick_indices, start=1)}
    rows = [
        f"<li>{_clock(found.segments[i].start)}–{_clock(found.segments[i].end)}: same as "
        f"#{picked.get(s.pick, '?')}, {html.escape(s.detail)}</li>"
        for i, s in sorted(found.suppressed.items())
        if s.reason == "duplicate"
    ]
    if not rows:
        return ""
    return (f"<details class=meta><summary>{len(rows)} look-alike candidates left out</summary>"
            f"<ul>{''.join(rows)}</ul></details>")


def _fallback_caption(found: Highlights, i: int) -> str:
    """Why a fallback pick was made, as HTML ("" for a candidate)."""
    if not found.segments[i].fallback:
        return ""
    return f"<div class=loop>extra GIF: {html.escape(fallback_why(found, i))}</div>"


def _crop_caption(crop: CropPath | None) -> str:
    """The crop's aspect and what it followed, as HTML ("" without a crop)."""
    if crop is None:
        return ""
    follows = " then ".join(dict.fromkeys(subject for _, subject in crop.pieces))
    return (f"<div class=loop>crop {crop.aspect} ({crop.width}×{crop.height}) · follows "
            f"{follows}</div>")


def index_html(found: Highlights, outputs: dict[int, str],
               loops: dict[int, LoopReport] | None = None,
               crops: dict[int, CropPath | None] | None = None) -> str:
    """The contact sheet as a string."""
    loops = loops or {}
    crops = crops or {}
    name = html.escape(os.path.basename(found.info.path))
    cards = []
    for n, i in enumerate(found.pick_indices, start=1):
        seg = found.segments[i]
        src = outputs.get(i)
        media = _media_tag(src, f"pick {n}") if src else "<div class=missing>not encoded</div>"
        signals = "".join(
            f"<tr><td>{html.escape(k)}</td><td>{v:.2f}</td></tr>" for k, v in seg.signals.items()
        )
        score = "–" if seg.score is None else f"{seg.score:.3f}"
        cards.append(
            f"<figure>{media}<figcaption><b>#{n}</b> {_clock(seg.start)}–{_clock(seg.end)}"
            f" · score {score}{_fallback_caption(found, i)}{_loop_caption(found, n, i, loops)}"
            f"{_crop_caption(crops.get(i))}"
            f"<details><summary>why</summary><table>{signals}</table></details>"
            f"</figcaption></figure>"
        )
    info = found.info
    fallbacks = sum(1 for s in found.segments if s.fallback)
    summary = (
        f"{info.width}×{info.height}, {float(info.fps):.3g} fps, {_clock(info.duration)} · "
        f"{len(found.shots)} shots · {len(found.segments) - fallbacks} candidates"
        f"{f' (+{fallbacks} fallbacks)' if fallbacks else ''} · model "
        f"{html.escape(str(found.model.get('name', '?')))}"
    )
    if found.dropped_shots:
        summary += f" · {len(found.dropped_shots)} shots too short for a GIF"
    aspects = sorted({c.aspect for c in crops.values() if c is not None})
    if aspects:
        summary += f" · cropped to {', '.join(aspects)}"
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>video2gif · {name}</title>
<style>
body{{font:15px/1.4 system-ui,sans-serif;margin:24px;background:#fafafa;color:#222}}
h1{{font-size:20px;margin:0 0 4px}} .meta{{color:#666;margin-bottom:16px}}
.grid{{display:flex;flex-wrap:wrap;gap:16px}}
figure{{margin:0;background:#fff;border:1px solid #ddd;border-radius:6px;padding:8px;
max-width:330px}}
figure img,figure video{{display:block;max-width:100%;height:auto}}
figcaption{{margin-top:6px}} table{{font-size:13px;color:#444}} td{{padding:0 8px 0 0}}
.loop{{font-size:13px;color:#555}} .missing{{padding:40px;color:#999}} svg{{background:#fff;border:1px solid #ddd;margin-top:20px;
max-width:100%;height:auto}}
</style></head><body>
<h1>{name}</h1><div class="meta">{summary}</div>
<div class="grid">{''.join(cards) or '<p>No segment was picked.</p>'}</div>
{_left_out(found)}
{timeline_svg(found)}
<p class="meta">Timeline: every candidate as a bar at its score; picks in orange with their rank;
grey lines are shot boundaries{_dashed_note(found)}. Made by video2gif {__version__}.</p>
</body></html>
"""


def _dashed_note(found: Highlights) -> str:
    if not any(s.fallback for s in found.segments):
        return ""
    return "; dashed bars are fallback candidates (scored with the candidates, not ranked)"


def _media_tag(src: str, alt: str) -> str:
    kind = format_of_file(src)
    src = html.escape(src, quote=True)
    if kind is not None and kind.element == "video":
        return f'<video src="{src}" autoplay loop muted playsinline></video>'
    return f'<img src="{src}" alt="{alt}" loading="lazy">'


def timeline_svg(found: Highlights) -> str:
    """Inline SVG: candidate scores over time, shot boundaries, picks highlighted."""
    duration = max(found.info.duration, 1e-6)
    scores = [s.score for s in found.segments if s.score is not None]
    lo, hi = (min(scores), max(scores)) if scores else (0.0, 1.0)
    span = (hi - lo) or 1.0
    w, h = TIMELINE_WIDTH, TIMELINE_HEIGHT
    inner_w, inner_h = w - 2 * _PAD, h - 2 * _PAD

    def x(t: float) -> float:
        return _PAD + inner_w * t / duration

    def y(v: float) -> float:
        return _PAD + inner_h * (1 - (v - lo) / span)

    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {w} {h}" '
             f'width="{w}" height="{h}" role="img" aria-label="score timeline">']
    parts.append(f'<line x1="{_PAD}" y1="{h - _PAD}" x2="{w - _PAD}" y2="{h - _PAD}" '
                 'stroke="#999"/>')
    for shot in found.shots[1:]:
        parts.append(f'<line x1="{x(shot.start):.1f}" y1="{_PAD}" x2="{x(shot.start):.1f}" '
                     f'y2="{h - _PAD}" stroke="#ccc"/>')
    picked = {i: n for n, i in enumerate(found.pick_indices, start=1)}
    for i, seg in enumerate(found.segments):
        if seg.score is None:
            continue
        colour, width = ("#e8590c", 4) if i in picked else ("#4c6ef5", 2)
        dash = ' stroke-dasharray="6 3"' if seg.fallback else ""  # a fallback
        parts.append(f'<line x1="{x(seg.start):.1f}" y1="{y(seg.score):.1f}" '
                     f'x2="{x(seg.end):.1f}" y2="{y(seg.score):.1f}" stroke="{colour}"{dash} '
                     f'stroke-width="{width}" stroke-opacity="{1 if i in picked else 0.5}">'
                     f'<title>{_clock(seg.start)}–{_clock(seg.end)}: {seg.score:.3f}</title>'
                     '</line>')
        if i in picked:
            parts.append(f'<text x="{x((seg.start + seg.end) / 2):.1f}" '
                         f'y="{y(seg.score) - 6:.1f}" font-size="12" text-anchor="middle" '
                         f'fill="#e8590c">{picked[i]}</text>')
    ticks = min(10, max(1, int(duration // 10)))
    step = duration / ticks
    for n in range(ticks + 1):
        t = n * step
        parts.append(f'<text x="{x(t):.1f}" y="{h - 8}" font-size="11" text-anchor="middle" '
                     f'fill="#666">{_clock(t)}</text>')
    parts.append(f'<text x="4" y="{_PAD - 8}" font-size="11" fill="#666">score</text>')
    parts.append("</svg>")
    return "".join(parts)
