"""Size, speed and quality of GIF encoders fed the same frames, on real clips.

    .venv/bin/python benchmarks/gif_quality.py [--quality 95,90,...] [--no-write] [--quick]

Every encoder gets the same frames: each segment is decoded once at 480 px (lanczos) and resampled
to 12 fps by timestamp, exactly as ``video2gif make`` does. Encoders: video2gif at several
``quality`` settings; FFmpeg palettegen + paletteuse with their defaults and with the settings of
video2gif 0.1 (palette of moving pixels, sierra2_4a, rectangle diffs), through PyAV; and gifski
(-Q 90/70/50) when a ``gifski`` binary is on PATH or in $GIFSKI. gifski is AGPL: it is run as a
separate program here, as a yardstick, and nothing of it is imported, bundled or required.

Quality is judged at every tick (1/12 s) of playback of the decoded GIF, so a frame held for
several ticks counts at each one: SSIM on luma (BT.601, Gaussian window σ = 1.5) and SSIMULACRA2
(the PyPI package ``ssimulacra2``; the reference side of each source frame is computed once).
Each tick's GIF frame is compared with the source frame that best matches it (least luma error)
among those within one tick of that moment, at the GIF's size (lanczos), so the figures measure the
encoding, not which source frame an encoder chose to show. Figures are means over all ticks of all
segments; bytes and seconds are totals. The table and a size-quality plot go to docs/BENCHMARKS.md
and docs/images/gif_quality.png.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import shutil
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import av
import av.filter
import numpy as np
from PIL import Image
from scipy import ndimage

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import MEDIA, REPO, machine, write_section

from video2gif.decode import read_range
from video2gif.encode import _resample
from video2gif.gif import Settings, encode_gif, settings_for

WIDTH, FPS, LENGTH = 480, 12.0, 3.0
# (clip, start s, kind): animation, film, camera motion, static backgrounds, faces
SEGMENTS = [
    ("moviepy/big_buck_bunny_0_30.webm", 10.0, "animation, slow motion"),
    ("moviepy/big_buck_bunny_0_30.webm", 21.0, "animation, camera move"),
    ("pyscenedetect/testvideo.mp4", 2.0, "live action, 720p"),
    ("pyscenedetect/testvideo.mp4", 15.0, "live action, 720p"),
    ("moviepy/chaplin.mp4", 3.0, "old film, faces"),
    ("opencv/Megamind.avi", 2.0, "CG film, faces"),
    ("pyscenedetect/goldeneye-vfr-drop3.mp4", 4.0, "film, camera motion"),
    ("moviepy/video_with_failing_audio.mp4", 3.0, "static background"),
]
GIFSKI_QUALITIES = (90, 70, 50)
PLOT = REPO / "docs" / "images" / "gif_quality.png"


@dataclass
class Segment:
    name: str
    times: list[float]  # every source frame's time, seconds
    images: list[np.ndarray]  # every source frame at 480 px
    frames: list[np.ndarray]  # what the encoders get: one per distinct tick frame
    holds: list[int]
    start: float


def load(clip: str, start: float) -> Segment:
    path = MEDIA / clip
    decoded = list(read_range(path, start, start + LENGTH, width=WIDTH))
    times = [f.time for f in decoded]
    images = [f.image for f in decoded]
    stop = min(start + LENGTH, times[-1] + (times[-1] - times[-2]))
    frames, holds = _resample(times, images, start, stop, FPS)
    return Segment(f"{Path(clip).stem}@{start:g}", times, images, frames, holds, start)


# ---- encoders: each writes a GIF file and returns its encode seconds ----


def video2gif_encoder(quality: int):
    def run(seg: Segment, out: Path) -> float:
        t = time.perf_counter()
        out.write_bytes(encode_gif(seg.frames, seg.holds, FPS, settings_for(quality)).data)
        return time.perf_counter() - t

    return run


def settings_encoder(overrides: str):
    """video2gif with explicit Settings fields, e.g. "keep_tolerance=0.02,dither=none"."""
    fields = {f.name: f.type for f in dataclasses.fields(Settings)}
    values = {}
    for item in filter(None, overrides.split(",")):
        key, value = item.split("=", 1)
        kind = fields[key]
        values[key] = (value if kind == "str" else value == "True" if kind == "bool"
                       else int(value) if kind == "int" else float(value))
    settings = Settings(**values)

    def run(seg: Segment, out: Path) -> float:
        t = time.perf_counter()
        out.write_bytes(encode_gif(seg.frames, seg.holds, FPS, settings).data)
        return time.perf_counter() - t

    return run


def ffmpeg_encoder(palettegen: str, paletteuse: str):
    """palettegen/paletteuse through PyAV, as video2gif 0.1 did (options differ)."""

    def run(seg: Segment, out: Path) -> float:
        t = time.perf_counter()
        rate = Fraction(FPS).limit_denominator(1001)
        graph = av.filter.Graph()
        h, w = seg.frames[0].shape[:2]
        src = graph.add_buffer(width=w, height=h, format="rgb24", time_base=1 / rate)
        split = graph.add("split")
        gen = graph.add("palettegen", palettegen or None)
        use = graph.add("paletteuse", paletteuse or None)
        src.link_to(split)
        split.link_to(use, 0, 0)
        split.link_to(gen, 1, 0)
        gen.link_to(use, 0, 1)
        use.link_to(graph.add("buffersink"))
        graph.configure()
        encoded, pts = [], 0
        for image, hold in zip(seg.frames, seg.holds):
            frame = av.VideoFrame.from_ndarray(image, format="rgb24")
            frame.pts, frame.time_base = pts, 1 / rate
            graph.push(frame)
            pts += hold
        graph.push(None)
        while True:
            try:
                encoded.append(graph.pull())
            except (av.error.BlockingIOError, av.error.EOFError):
                break
        final_cs = max(1, round(100 * seg.holds[-1] / FPS))
        with av.open(str(out), "w", format="gif",
                     options={"loop": "0", "final_delay": str(final_cs)}) as c:
            stream = c.add_stream("gif", rate=rate)
            stream.width, stream.height, stream.pix_fmt = w, h, "pal8"
            stream.codec_context.time_base = 1 / rate
            for f in encoded:
                c.mux(stream.encode(f))
            c.mux(stream.encode())
        return time.perf_counter() - t

    return run


def gifski_encoder(binary: str, quality: int):
    def run(seg: Segment, out: Path) -> float:
        with tempfile.TemporaryDirectory() as tmp:
            names, n = [], 0
            for image, hold in zip(seg.frames, seg.holds):
                for _ in range(hold):  # gifski takes one picture per tick and merges repeats
                    name = f"{tmp}/f{n:04d}.png"
                    Image.fromarray(image).save(name, compress_level=1)
                    names.append(name)
                    n += 1
            t = time.perf_counter()
            subprocess.run([binary, "--quiet", "--fps", f"{FPS:g}", "-Q", str(quality),
                            "-o", str(out), *names], check=True)
            return time.perf_counter() - t

    return run


# ---- metrics ----


def luma(rgb: np.ndarray) -> np.ndarray:
    return rgb.astype(np.float64) @ np.array([0.299, 0.587, 0.114])


def ssim_luma(a: np.ndarray, b: np.ndarray) -> float:
    """Mean SSIM of two luma planes (0-255), Gaussian window σ 1.5 (Wang et al. 2004)."""
    c1, c2 = (0.01 * 255) ** 2, (0.03 * 255) ** 2

    def blur(x):
        return ndimage.gaussian_filter(x, 1.5, truncate=3.5)

    mu_a, mu_b = blur(a), blur(b)
    saa = blur(a * a) - mu_a**2
    sbb = blur(b * b) - mu_b**2
    sab = blur(a * b) - mu_a * mu_b
    num = (2 * mu_a * mu_b + c1) * (2 * sab + c2)
    den = (mu_a**2 + mu_b**2 + c1) * (saa + sbb + c2)
    return float((num / den).mean())


def s2_reference(rgb: np.ndarray) -> list:
    """The reference half of SSIMULACRA2 at every scale, computed once per source frame."""
    import ssimulacra2.ssimulacra2 as s2

    lin = s2.srgb_to_linear(rgb.astype(np.float64))
    scales = []
    for _ in range(s2.kNumScales):
        xyb = s2.make_positive_xyb(s2.linear_rgb_to_xyb(lin))
        if xyb.shape[0] < 8 or xyb.shape[1] < 8:
            break
        scales.append((xyb, s2.blur_image(xyb * xyb), s2.blur_image(xyb)))
        lin = s2.downsample(lin, 2, 2)
    return scales


def s2_score(reference: list, rgb: np.ndarray) -> float:
    """SSIMULACRA2 of ``rgb`` against a :func:`s2_reference` (same steps as the package's
    ``compute_ssimulacra2``, without reading files)."""
    import ssimulacra2.ssimulacra2 as s2

    lin = s2.srgb_to_linear(rgb.astype(np.float64))
    result = s2.Msssim()
    for x1, s11, mu1 in reference:
        x2 = s2.make_positive_xyb(s2.linear_rgb_to_xyb(lin))
        s22, s12, mu2 = s2.blur_image(x2 * x2), s2.blur_image(x1 * x2), s2.blur_image(x2)
        scale = s2.MsssimScale()
        scale.avg_ssim = s2.ssim_map(mu1, mu2, s11, s22, s12)
        scale.avg_edgediff = s2.edge_diff_map(x1, mu1, x2, mu2)
        result.scales.append(scale)
        lin = s2.downsample(lin, 2, 2)
    return float(result.score())


def playback(path: Path) -> list[np.ndarray]:
    """The GIF's picture at every 1/FPS tick of one loop (composited as a browser shows it)."""
    im = Image.open(path)
    pictures, ends, t = [], [], 0
    for k in range(im.n_frames):
        im.seek(k)
        pictures.append(np.asarray(im.convert("RGB")))
        t += im.info.get("duration", 100)
        ends.append(t)
    n_ticks = max(1, round(t / 1000 * FPS))
    shown = np.searchsorted(ends, (np.arange(n_ticks) + 0.5) * 1000 / FPS, side="right")
    return [pictures[min(i, len(pictures) - 1)] for i in shown]


def score_segment(job) -> dict[str, tuple[float, float, int]]:
    """For one segment: encoder → (sum of SSIM, sum of SSIMULACRA2, ticks)."""
    clip, start, gifs = job
    seg = load(clip, start)
    references: dict[tuple[int, tuple], list] = {}
    out = {}
    for label, path in gifs.items():
        ticks = playback(Path(path))
        size = ticks[0].shape[:2]
        sources = seg.images
        if sources[0].shape[:2] != size:
            sources = [np.asarray(Image.fromarray(s).resize(size[::-1], Image.LANCZOS))
                       for s in seg.images]
        lumas = [luma(s) for s in sources]
        ssim_sum = s2_sum = 0.0
        for k, picture in enumerate(ticks):
            moment = seg.start + k / FPS
            near = [i for i, t in enumerate(seg.times) if abs(t - moment) <= 1 / FPS + 1e-6]
            near = near or [int(np.argmin([abs(t - moment) for t in seg.times]))]
            y = luma(picture)
            best = min(near, key=lambda i: float(np.mean((lumas[i] - y) ** 2)))
            ssim_sum += ssim_luma(lumas[best], y)
            key = (best, size)
            if key not in references:
                references[key] = s2_reference(sources[best])
            s2_sum += s2_score(references[key], picture)
        out[label] = (ssim_sum, s2_sum, len(ticks))
    return out


def find_gifski() -> str | None:
    return os.environ.get("GIFSKI") or shutil.which("gifski")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quality", default="95,90,85,70,65,50,40,30",
                    help="video2gif quality settings")
    ap.add_argument("--quick", action="store_true", help="first 3 segments only")
    ap.add_argument("--no-write", action="store_true", help="print, do not touch docs/")
    ap.add_argument("--only", default="", help="comma-separated label prefixes to run")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--variant", action="append", default=[], metavar="NAME:FIELD=V,...",
                    help="also run video2gif with these Settings fields (the step-by-step table)")
    ap.add_argument("--no-others", action="store_true", help="video2gif only (no FFmpeg, gifski)")
    args = ap.parse_args()
    segments = SEGMENTS[:3] if args.quick else SEGMENTS
    encoders = {f"video2gif q{q}": video2gif_encoder(int(q)) for q in args.quality.split(",")}
    for variant in args.variant:
        name, overrides = variant.split(":", 1)
        encoders[f"video2gif {name}"] = settings_encoder(overrides)
    if args.no_others:
        args.only = args.only or "video2gif"
    encoders["FFmpeg palettegen+paletteuse, defaults"] = ffmpeg_encoder("", "")
    encoders["video2gif 0.1 (FFmpeg, palette of moving pixels)"] = ffmpeg_encoder(
        "max_colors=256:reserve_transparent=1:stats_mode=diff",
        "dither=sierra2_4a:diff_mode=rectangle")
    gifski = find_gifski()
    if gifski:
        for q in GIFSKI_QUALITIES:
            encoders[f"gifski -Q {q}"] = gifski_encoder(gifski, q)
    if args.only:
        encoders = {k: v for k, v in encoders.items()
                    if any(k.startswith(p) for p in args.only.split(","))}
    # Warm-up, so the timings do not include numba's one-off compilation.
    small = [np.zeros((16, 16, 3), np.uint8), np.full((16, 16, 3), 9, np.uint8)]
    encode_gif(small, [1, 1], FPS, settings_for(50))
    work = Path(tempfile.mkdtemp(prefix="gif_quality_"))
    sizes = {k: 0 for k in encoders}
    seconds = {k: 0.0 for k in encoders}
    jobs = []
    for n, (clip, start, _kind) in enumerate(segments):
        seg = load(clip, start)
        gifs = {}
        for e, (label, run) in enumerate(encoders.items()):
            path = work / f"{n}_{e}.gif"
            seconds[label] += run(seg, path)
            sizes[label] += path.stat().st_size
            gifs[label] = str(path)
        jobs.append((clip, start, gifs))
    sums = {k: [0.0, 0.0, 0] for k in encoders}
    with ProcessPoolExecutor(args.workers) as pool:
        for result in pool.map(score_segment, jobs):
            for label, (a, b, n) in result.items():
                sums[label][0] += a
                sums[label][1] += b
                sums[label][2] += n
    rows = {k: (sizes[k], seconds[k], sums[k][0] / sums[k][2], sums[k][1] / sums[k][2])
            for k in encoders}
    table = _table(rows, segments)
    print(table)
    shutil.rmtree(work, ignore_errors=True)
    if not args.no_write:
        _plot(rows)
        write_section(REPO / "docs" / "BENCHMARKS.md", "GIF size and quality", table)


def _table(rows, segments) -> str:
    base = next((v[0] for k, v in rows.items() if k.startswith("gifski -Q 90")), None)
    lines = [
        "| encoder | total bytes | encode s | SSIM (luma) | SSIMULACRA2 | bytes vs gifski -Q 90 |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for label, (size, secs, ssim, s2) in rows.items():
        ratio = f"{size / base:.2f}×" if base else "–"
        lines.append(f"| {label} | {size / 1e6:.2f} MB | {secs:.1f} | {ssim:.4f} | {s2:.1f} "
                     f"| {ratio} |")
    kinds = "; ".join(f"`{c}` {s:g}-{s + LENGTH:g} s ({k})" for c, s, k in segments)
    return (
        "Command: `.venv/bin/python benchmarks/gif_quality.py`. Machine: "
        f"{machine()} (GIF encoding uses no bfloat16). Segments ({len(segments)} × {LENGTH:g} s, "
        f"{WIDTH} px, {FPS:g} fps, the same frames into every encoder): {kinds}. "
        "Figures: means over every 1/12 s tick of playback against the best-matching source "
        "frame within one tick; encode seconds exclude decoding.\n\n"
        + "\n".join(lines)
        + "\n\n![bytes against SSIMULACRA2 and SSIM, one curve per encoder](images/gif_quality.png)"
    )


def _plot(rows) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    families: dict[str, list] = {}
    for label, (size, _s, ssim, s2) in rows.items():
        family = label.rsplit(" ", 1)[0] if label.startswith(("video2gif q", "gifski")) else label
        tag = label.rsplit(" ", 1)[-1] if family != label else ""
        families.setdefault(family, []).append((size / 1e6, ssim, s2, tag))
    fig, axes = plt.subplots(1, 2, figsize=(11, 4.2))
    for family, points in families.items():
        points.sort()
        for ax, col in zip(axes, (2, 1)):
            ax.plot([p[0] for p in points], [p[col] for p in points], "o-", label=family)
            for p in points:
                if p[3]:
                    ax.annotate(p[3], (p[0], p[col]), fontsize=7, xytext=(3, 3),
                                textcoords="offset points")
    axes[0].set_ylabel("SSIMULACRA2 (higher is better)")
    axes[1].set_ylabel("SSIM on luma")
    for ax in axes:
        ax.set_xlabel("total MB (8 GIFs)")
        ax.grid(alpha=0.3)
    axes[0].legend(fontsize=7)
    fig.tight_layout()
    PLOT.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(PLOT, dpi=110)


if __name__ == "__main__":
    main()
