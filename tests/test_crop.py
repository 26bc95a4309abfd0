"""crop: boxes that follow faces or motion, restart at cuts, stay in the frame; encoded crops."""

from __future__ import annotations

import io
import json
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest
from PIL import Image

from video2gif import decode
from video2gif.crop import CropPath, CropPlanner, crop_size, parse_aspect, plan_crop
from video2gif.decode import probe, read_range
from video2gif.encode import EncodeOptions, encode_segment
from video2gif.errors import UsageError
from video2gif.features.faces import FaceCollector, face_detection_unavailable

from . import synthetic
from .conftest import media, run_cli

FPS = 24
RADIUS = 12  # pixels: the disc that is the subject
DISC = (250, 240, 60)  # its colour, far from every background colour
INSIDE_SHARE = 0.95  # the subject must be wholly inside the crop in this share of frames
needs_faces = pytest.mark.skipif(face_detection_unavailable() is not None,
                                 reason=f"{face_detection_unavailable()}")


def texture(seed: int, w: int, h: int) -> np.ndarray:
    """A dull random-colour texture of 8-pixel blocks (40-140), so the disc stands out."""
    rng = np.random.default_rng(seed)
    small = rng.integers(40, 140, size=(h // 8, w // 8, 3), dtype=np.uint8)
    return np.kron(small, np.ones((8, 8, 1), dtype=np.uint8))


def draw_disc(image: np.ndarray, cx: float, cy: float) -> np.ndarray:
    yy, xx = np.mgrid[: image.shape[0], : image.shape[1]]
    image[(xx - cx) ** 2 + (yy - cy) ** 2 <= RADIUS**2] = DISC
    return image


def disc_video(path: Path, w: int, h: int, shots) -> tuple[Path, list[tuple[float, float]]]:
    """Write shots of a disc moving over a still texture; each shot is (seed, n, position(i)).
    Returns the path and the disc's centre in every frame."""
    frames, truth = [], []
    for seed, n, position in shots:
        background = texture(seed, w, h)
        for i in range(n):
            cx, cy = position(i)
            frames.append(draw_disc(background.copy(), cx, cy))
            truth.append((cx, cy))
    return synthetic.write_video(path, frames, fps=FPS), truth


@pytest.fixture(scope="module")
def disc_with_cut(tmp_path_factory):
    """24 fps, 256×144, 4 s, a hard cut at 2.0 s (frame 48). Shot 1: a disc crosses from the left
    edge to the right edge, bobbing up and down. Shot 2: other texture, the disc back at the left,
    drifting right slowly, so a path that drifted across the cut would miss it."""
    return disc_video(tmp_path_factory.mktemp("disc") / "disc.mp4", 256, 144, [
        (1, 48, lambda i: (20 + 4.5 * i, 50 + 20 * np.sin(i / 8))),
        (2, 48, lambda i: (40 + 1.0 * i, 100)),
    ])


def share_inside(plan: CropPath, truth, fps: float = FPS, margin: float = RADIUS) -> float:
    """Share of frames whose subject (a disc of ``margin`` radius) lies wholly in the crop."""
    inside = []
    for t in plan.times:
        cx, cy = truth[round(t * fps)]
        x, y, w, h = plan.box_at(t)
        inside.append(x + margin <= cx <= x + w - margin and y + margin <= cy <= y + h - margin)
    return float(np.mean(inside))


def assert_in_frame(plan: CropPath) -> None:
    assert plan.width % 2 == 0 and plan.height % 2 == 0
    for t in plan.times:
        x, y, w, h = plan.box_at(t)
        assert (w, h) == (plan.width, plan.height)
        assert 0 <= x <= plan.source_width - w and 0 <= y <= plan.source_height - h


@pytest.mark.parametrize("text, expected", [
    ("1:1", "1:1"), ("4:5", "4:5"), ("9:16", "9:16"), (" 16:9 ", "16:9"), ("SOURCE", "source"),
    ("3/2", "3:2"), ("4x3", "4:3"),
])  # fmt: skip
def test_aspects_are_named_or_w_by_h(text, expected):
    assert parse_aspect(text) == expected


@pytest.mark.parametrize("text", ["3:0", "0:4", "wide", "", "1:20", "-1:2", "1.5:1", "9:16:1"])
def test_bad_aspects_name_the_flag(text):
    with pytest.raises(UsageError) as err:
        parse_aspect(text)
    assert err.value.target == "--aspect" and "\n" not in str(err.value)
    assert err.value.exit_code == 2


@pytest.mark.parametrize("size, aspect, expected", [
    ((1280, 720), "1:1", (720, 720)), ((1280, 720), "9:16", (404, 720)),
    ((1280, 720), "4:5", (576, 720)), ((720, 1280), "1:1", (720, 720)),
    ((720, 1280), "16:9", (720, 404)), ((32, 16), "9:16", (8, 16)), ((4, 4), "1:10", (2, 4)),
])  # fmt: skip
def test_crop_is_the_largest_even_box_of_the_aspect(size, aspect, expected):
    assert crop_size(*size, aspect) == expected


def test_source_means_no_crop(disc_with_cut):
    assert plan_crop(disc_with_cut[0], 0.0, 1.0, "source") is None


@pytest.mark.parametrize("aspect", ["1:1", "4:5", "9:16"])
def test_the_subject_stays_inside_and_the_box_in_the_frame(disc_with_cut, aspect):
    path, truth = disc_with_cut
    plan = plan_crop(path, 0.0, 4.0, aspect)
    assert len(plan.times) == len(truth)
    assert share_inside(plan, truth) >= INSIDE_SHARE
    assert_in_frame(plan)
    assert abs(Fraction(plan.width, plan.height) - Fraction(aspect.replace(":", "/"))) < 0.05


def test_the_path_restarts_at_a_cut(disc_with_cut):
    """After the cut the path is what planning the second shot alone gives: nothing of the first
    shot leaks across (and before it, nothing of the second)."""
    path, truth = disc_with_cut
    whole = plan_crop(path, 0.0, 4.0, "9:16")
    starts = [t for t, _ in whole.pieces]
    assert starts == pytest.approx([0.0, 2.0], abs=1e-3)
    first, second = plan_crop(path, 0.0, 2.0, "9:16"), plan_crop(path, 2.0, 4.0, "9:16")
    assert whole.boxes == first.boxes + second.boxes
    at_cut = whole.box_at(2.0)
    cx, _ = truth[48]
    assert at_cut[0] + RADIUS <= cx <= at_cut[0] + at_cut[2] - RADIUS
    assert whole.box_at(2.0 - 1 / FPS)[0] > 150  # the first shot ended on the right


def test_known_cuts_restart_the_path_too(tmp_path):
    """Same texture on both sides of the jump, so only the given cut time splits the path."""
    path, truth = disc_video(tmp_path / "jump.mp4", 256, 144, [
        (3, 24, lambda i: (225 - i, 72)),
        (3, 24, lambda i: (31 + i, 72)),
    ])  # fmt: skip
    plan = plan_crop(path, 0.0, 2.0, "1:1", cuts=[1.0])
    assert [t for t, _ in plan.pieces] == pytest.approx([0.0, 1.0], abs=1e-3)
    assert share_inside(plan, truth) == 1.0


def test_a_portrait_source_follows_up_and_down(tmp_path):
    path, truth = disc_video(tmp_path / "tall.mp4", 96, 192, [
        (4, 48, lambda i: (48 + 10 * np.sin(i / 6), 16 + 3.3 * i)),
    ])  # fmt: skip
    plan = plan_crop(path, 0.0, 2.0, "1:1")
    assert (plan.width, plan.height) == (96, 96)
    assert share_inside(plan, truth) >= INSIDE_SHARE
    assert_in_frame(plan)
    assert plan.box_at(0.0)[1] < plan.box_at(1.9)[1]


def bystander(path: Path, n: int = 72):
    """The subject walks slowly across the right half; for 0.4 s in the middle a bystander on
    the left (a second disc) jumps about, moving more than the subject."""
    background = texture(17, 256, 144)
    frames, truth = [], []
    for i in range(n):
        image = background.copy()
        if 30 <= i < 40:
            draw_disc(image, 40 + 25 * (i % 2), 60 + 30 * (i % 3))
        cx, cy = 150 + 1.0 * i, 80
        frames.append(draw_disc(image, cx, cy))
        truth.append((cx, cy))
    return synthetic.write_video(path, frames, fps=FPS), truth


@pytest.mark.parametrize("aspect", ["1:1", "9:16"])
def test_a_bystander_moving_for_a_moment_does_not_pull_the_crop(tmp_path, aspect):
    """The subject drifts right across the right half; for 0.4 s a second disc on the left
    jumps about, with more motion than the subject has."""
    path, truth = bystander(tmp_path / "bystander.mp4")
    plan = plan_crop(path, 0.0, 3.0, aspect)
    assert share_inside(plan, truth) == 1.0
    assert min(x for x, _ in plan.boxes) > 65  # never reached over to the bystander


def test_a_subject_that_barely_moves_gets_a_still_crop(tmp_path):
    path, truth = disc_video(tmp_path / "still.mp4", 256, 144, [
        (5, 36, lambda i: (200 + 4 * np.sin(i), 72 + 3 * np.cos(i / 2))),
    ])  # fmt: skip
    plan = plan_crop(path, 0.0, 1.5, "4:5")
    assert len(set(plan.boxes)) == 1
    assert share_inside(plan, truth) == 1.0
    assert len(plan.to_dict()["boxes"]) == 1


def test_nothing_moving_keeps_the_centre(tmp_path):
    path = synthetic.write_video(tmp_path / "still.mp4", [texture(6, 256, 144)] * 24, fps=FPS)
    plan = plan_crop(path, 0.0, 1.0, "1:1")
    assert plan.pieces == ((0.0, "centre"),)
    assert set(plan.boxes) == {(56, 0)}


def test_the_report_form_replays_every_box(disc_with_cut):
    plan = plan_crop(disc_with_cut[0], 0.0, 4.0, "1:1")
    doc = plan.to_dict()
    assert (doc["aspect"], doc["width"], doc["height"]) == ("1:1", 144, 144)
    assert [p["follows"] for p in doc["pieces"]] == ["motion", "motion"]
    keys = [row[0] for row in doc["boxes"]]
    assert keys == sorted(keys) and len(keys) < len(plan.times)
    for t in plan.times:
        k = max(i for i, key in enumerate(keys) if key <= round(t, 4))
        assert tuple(doc["boxes"][k][1:]) == plan.box_at(t)[:2]


def draw_face(image: np.ndarray, cx: int, cy: int, size: int) -> np.ndarray:
    """A flat drawn face (skin oval, dark brows and eyes, nose line, mouth) that OpenCV's
    frontal-face cascade finds from about 60 px high at 320 px wide."""
    import cv2

    s = size
    cv2.ellipse(image, (cx, cy), (int(s * 0.38), int(s * 0.5)), 0, 0, 360, (225, 200, 180), -1)
    for side in (-1, 1):
        ex, ey = cx + int(side * s * 0.17), cy - int(s * 0.08)
        cv2.ellipse(image, (ex, ey - int(s * 0.09)), (int(s * 0.1), int(s * 0.03)), 0, 0, 360,
                    (60, 50, 40), -1)
        cv2.ellipse(image, (ex, ey), (int(s * 0.08), int(s * 0.045)), 0, 0, 360, (30, 30, 30), -1)
    cv2.line(image, (cx, cy - int(s * 0.02)), (cx, cy + int(s * 0.14)), (190, 160, 140), 2)
    cv2.ellipse(image, (cx, cy + int(s * 0.26)), (int(s * 0.14), int(s * 0.04)), 0, 0, 360,
                (140, 60, 60), -1)
    return image


def walking_face(path: Path, n: int = 60):
    """A drawn face 80 px high crossing a 320×180 frame."""
    background = texture(8, 320, 180)
    frames, truth = [], []
    for i in range(n):
        cx = int(60 + 3.3 * i)
        frames.append(draw_face(background.copy(), cx, 90, 80))
        truth.append((cx, 90))
    return synthetic.write_video(path, frames, fps=FPS), truth


def turning_face(path: Path, n: int = 72):
    """A drawn face walking right turns away after 1.25 s (the back of a head) and walks on."""
    import cv2

    background = texture(22, 320, 180)
    frames, truth = [], []
    for i in range(n):
        cx = int(50 + 3.2 * i)
        image = background.copy()
        if i < 30:
            draw_face(image, cx, 90, 80)
        else:
            cv2.ellipse(image, (cx, 90), (30, 40), 0, 0, 360, (70, 50, 40), -1)
        frames.append(image)
        truth.append((cx, 90))
    return synthetic.write_video(path, frames, fps=FPS), truth


@pytest.fixture(scope="module")
def face_and_disc(tmp_path_factory):
    """24 fps, 320×180, 2 s: a drawn face 80 px high standing still at x=70, and a disc crossing
    the right half; the face's centre and the disc's in every frame."""
    if face_detection_unavailable():
        pytest.skip(face_detection_unavailable())
    background = texture(7, 320, 180)
    frames, faces, discs = [], [], []
    for i in range(48):
        image = draw_face(background.copy(), 70, 90, 80)
        disc = (190 + 2.5 * i, 60 + i)
        frames.append(draw_disc(image, *disc))
        faces.append((70, 90))
        discs.append(disc)
    path = tmp_path_factory.mktemp("face") / "face.mp4"
    return synthetic.write_video(path, frames, fps=FPS), faces, discs


@needs_faces
def test_faces_come_before_motion(face_and_disc):
    path, faces, discs = face_and_disc
    plan = plan_crop(path, 0.0, 2.0, "9:16")
    assert plan.pieces == ((0.0, "faces"),)
    assert share_inside(plan, faces, margin=30) == 1.0  # the face's oval is 61×80 px
    motion = plan_crop(path, 0.0, 2.0, "9:16", faces=False)
    assert motion.pieces == ((0.0, "motion"),)
    assert share_inside(motion, discs) >= INSIDE_SHARE


@needs_faces
def test_a_moving_face_is_followed(tmp_path):
    path, truth = walking_face(tmp_path / "walk.mp4")
    plan = plan_crop(path, 0.0, 2.5, "9:16")
    assert plan.pieces == ((0.0, "faces"),)
    assert share_inside(plan, truth, margin=30) >= INSIDE_SHARE
    assert_in_frame(plan)


@needs_faces
def test_two_faces_that_do_not_fit_do_not_take_turns(tmp_path):
    """Two drawn faces of about one size (78-83 px, swaying) far apart: a 9:16 crop holds one,
    and keeps to it."""
    rng = np.random.default_rng(0)
    background = texture(21, 320, 180)
    frames = []
    for i in range(72):
        image = draw_face(background.copy(), 70 + int(3 * np.sin(i / 5)), 90,
                          78 + int(rng.integers(0, 6)))
        frames.append(draw_face(image, 250 + int(3 * np.cos(i / 4)), 90,
                                78 + int(rng.integers(0, 6))))
    path = synthetic.write_video(tmp_path / "two.mp4", frames, fps=FPS)
    plan = plan_crop(path, 0.0, 3.0, "9:16")
    assert plan.pieces == ((0.0, "faces"),)
    xs = [x for x, _ in plan.boxes]
    assert max(xs) - min(xs) <= 10  # one face, held still
    assert all(x <= 70 - 30 and 70 + 30 <= x + plan.width for x in xs) or all(
        x <= 250 - 30 and 250 + 30 <= x + plan.width for x in xs)


@needs_faces
def test_a_face_that_turns_away_is_followed_by_its_motion(tmp_path):
    """A drawn face walks right; after 1.25 s it turns away (the back of a head: no face to
    find) and walks on. Holding the last face would lose it within half a second."""
    path, truth = turning_face(tmp_path / "turn.mp4")
    plan = plan_crop(path, 0.0, 3.0, "9:16")
    assert plan.pieces == ((0.0, "faces"),)
    assert share_inside(plan, truth, margin=30) >= INSIDE_SHARE


def decoded(path: Path) -> list[np.ndarray]:
    """Every frame of an output as RGB: Pillow reads GIF and animated WebP, PyAV the MP4."""
    if path.suffix == ".mp4":
        with av.open(str(path)) as container:
            return [f.to_ndarray(format="rgb24") for f in container.decode(video=0)]
    frames = []
    with Image.open(path) as im:
        for k in range(im.n_frames):
            im.seek(k)
            frames.append(np.asarray(im.convert("RGB")))
    return frames


def disc_visible(image: np.ndarray) -> bool:
    """Does an output frame at the crop's own size show most of the disc? (Its colour survives
    palettes and yuv420p.)"""
    near = np.abs(image.astype(int) - DISC).sum(axis=2) < 90
    return near.sum() > 0.5 * np.pi * RADIUS**2


@pytest.mark.parametrize("fmt", ["gif", "webp", "mp4"])
def test_encoded_outputs_are_cropped_and_show_the_subject(disc_with_cut, tmp_path, fmt):
    path, _ = disc_with_cut
    plan = plan_crop(path, 0.0, 4.0, "1:1")
    out = encode_segment(path, 0.0, 4.0, tmp_path / f"crop.{fmt}",
                         EncodeOptions(format=fmt, width=480), crop=plan)
    assert (out.width, out.height) == (144, 144)  # never upscaled past the crop
    frames = decoded(out.path)
    assert frames[0].shape[:2] == (144, 144)
    assert np.mean([disc_visible(f) for f in frames]) >= INSIDE_SHARE


@pytest.mark.parametrize("start, end, aspect", [(0.0, 4.0, "1:1"), (0.5, 2.5, "9:16"),
                                                 (1.2, 3.7, "4:5")])  # the last one seeks
def test_a_planner_plans_from_the_gifs_own_read(disc_with_cut, tmp_path, start, end, aspect):
    """``make --aspect`` decodes a pick once: the planner takes its frames from the GIF's read
    and gives the same path and the same GIF as planning from a read of its own."""
    path, _ = disc_with_cut
    plan = plan_crop(path, start, end, aspect, cuts=[2.0])
    planner = CropPlanner(aspect, probe(path), cuts=[2.0])
    assert planner.needs_frames
    opened = []
    original = decode._open
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(decode, "_open", lambda p: opened.append(p) or original(p))
        once = encode_segment(path, start, end, tmp_path / "once.gif", crop=planner)
    assert len(opened) == 1 and not planner.needs_frames
    assert planner.path == plan
    twice = encode_segment(path, start, end, tmp_path / "twice.gif", crop=plan)
    assert once.path.read_bytes() == twice.path.read_bytes()


class CountingPlanner(CropPlanner):
    pushed = 0

    def push(self, index, time, image):
        self.pushed += 1
        super().push(index, time, image)


def test_a_budget_rereads_with_the_plan_made(disc_with_cut, tmp_path):
    """A lower rate of the byte-budget ladder reads the range again; the plan stands, and the
    second read scales no grey frames for it."""
    path, _ = disc_with_cut
    planner = CountingPlanner("1:1", probe(path))
    out = encode_segment(path, 0.0, 4.0, tmp_path / "small.gif",
                         EncodeOptions(max_bytes=140_000, width=144), crop=planner)
    assert out.bytes <= 140_000 and out.fps < 10 and out.attempts > 1
    assert planner.path == plan_crop(path, 0.0, 4.0, "1:1")
    assert planner.pushed == 96  # 4 s at 24 fps, once


def test_a_read_cut_short_is_not_planned_from(disc_with_cut, tmp_path):
    """Frames of a read that stopped part way are dropped when the next read starts."""
    path, _ = disc_with_cut
    planner = CropPlanner("9:16", probe(path), cuts=[2.0])
    for n, _frame in enumerate(read_range(path, 1.0, 3.0, width=64, every=planner)):
        if n == 10:
            break
    assert planner.frames > 0 and planner.path is None
    encode_segment(path, 1.0, 3.0, tmp_path / "again.gif", crop=planner)
    assert planner.path == plan_crop(path, 1.0, 3.0, "9:16", cuts=[2.0])


def test_a_narrow_output_crops_the_full_resolution_frame(disc_with_cut, tmp_path):
    """The crop is cut from frames decoded large enough, then scaled to the width asked."""
    path, _ = disc_with_cut
    plan = plan_crop(path, 0.0, 2.0, "9:16")
    out = encode_segment(path, 0.0, 2.0, tmp_path / "narrow.gif", EncodeOptions(width=40),
                         crop=plan)
    assert out.width == 40 and abs(out.height - 40 * 144 / plan.width) <= 2


def test_a_video_smaller_than_the_crop_still_gives_a_gif(tmp_path):
    """32×16 video: a 9:16 crop is 8×16 pixels, far under the 480 px asked; the GIF is valid."""
    frames = [draw_disc_small(texture(9, 32, 16).copy(), 4 + i, 8) for i in range(24)]
    path = synthetic.write_video(tmp_path / "tiny.mp4", frames, fps=FPS)
    plan = plan_crop(path, 0.0, 1.0, "9:16")
    assert (plan.width, plan.height) == (8, 16)
    assert_in_frame(plan)
    out = encode_segment(path, 0.0, 1.0, tmp_path / "tiny.gif", crop=plan)
    with Image.open(out.path) as im:
        assert im.format == "GIF" and im.size == (8, 16) and im.n_frames >= 2
        im.seek(im.n_frames - 1)  # decodes to the end: a truncated file would raise
    assert probe(path).width == 32


def draw_disc_small(image: np.ndarray, cx: float, cy: float) -> np.ndarray:
    yy, xx = np.mgrid[: image.shape[0], : image.shape[1]]
    image[(xx - cx) ** 2 + (yy - cy) ** 2 <= 9] = DISC
    return image


def face_centres(path: Path, start: float, end: float) -> list[tuple[float, float, float]]:
    """(time, x, y) of the largest face OpenCV finds in each 5th frame, in source pixels."""
    finder = FaceCollector()
    scale = probe(path).width / 320
    out = []
    for k, frame in enumerate(read_range(path, start, end, width=320, pixel_format="gray")):
        if k % 5:
            continue
        found = finder.find(frame.image)
        if len(found):
            x, y, w, h = found[np.argmax(found[:, 2] * found[:, 3])]
            out.append((frame.time, (x + w / 2) * scale, (y + h / 2) * scale))
    return out


@needs_faces
@pytest.mark.parametrize("start, end", [(1.0, 4.0), (8.35, 11.0)])
def test_megamind_faces_stay_in_a_vertical_crop(start, end):
    """Real clip (../shared/media/opencv/Megamind.avi, 720×528): a close-up talking head."""
    path = media("opencv/Megamind.avi")
    plan = plan_crop(path, start, end, "9:16")
    assert plan.pieces[0][1] == "faces"
    assert_in_frame(plan)
    seen = face_centres(path, start, end)
    assert len(seen) >= 5
    inside = [plan.box_at(t)[0] <= x <= plan.box_at(t)[0] + plan.width for t, x, _ in seen]
    assert np.mean(inside) >= INSIDE_SHARE


def test_chaplin_vertical_crop_stays_in_the_frame(tmp_path):
    """Real clip (../shared/media/moviepy/chaplin.mp4, 640×360): a walking figure, no cut."""
    path = media("moviepy/chaplin.mp4")
    plan = plan_crop(path, 2.0, 5.0, "9:16")
    assert_in_frame(plan)
    assert len(plan.pieces) == 1
    out = encode_segment(path, 2.0, 5.0, tmp_path / "chaplin.gif", EncodeOptions(width=240),
                         crop=plan)
    assert out.width == 202 and out.height == 360  # the crop's own size: never upscaled


@pytest.mark.parametrize("aspect", ["3:0", "wide", ""])
def test_make_refuses_a_bad_aspect_in_one_line(capsys, disc_with_cut, tmp_path, aspect):
    code, _, err = run_cli(capsys, "make", disc_with_cut[0], "-o", tmp_path / "out",
                           "--aspect", aspect)
    assert code == 2 and err.startswith("video2gif: error: --aspect")
    assert err.count("\n") == 1 and "Traceback" not in err
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())


def test_make_crops_every_pick_and_reports_it(capsys, disc_with_cut, tmp_path):
    out = tmp_path / "out"
    code, _, err = run_cli(capsys, "make", disc_with_cut[0], "-o", out, "-k", "2", "--min-len",
                           "1", "--max-len", "2", "--backbone", "none", "--aspect", "1:1", "-q")
    assert code == 0, err
    folder = out / "disc"
    doc = json.loads((folder / "segments.json").read_text())
    picks = [s for s in doc["segments"] if s["pick"]]
    assert len(picks) == 2
    for s in picks:
        crop = s["crop"]
        assert (crop["aspect"], crop["width"], crop["height"]) == ("1:1", 144, 144)
        assert crop["pieces"][0]["follows"] in ("faces", "motion", "centre")
        for t, x, y in crop["boxes"]:
            assert 0 <= x <= 256 - 144 and y == 0 and s["start"] - 1.5 <= t <= s["end"] + 1.5
        with Image.open(folder / s["output"]) as gif:
            assert gif.size == (144, 144)
    assert not [s for s in doc["segments"] if not s["pick"] and "crop" in s]
    page = (folder / "index.html").read_text()
    assert "cropped to 1:1" in page and page.count("crop 1:1 (144×144)") == 2


def test_every_entry_point_takes_the_aspect():
    from video2gif.options import GifOptions, parse_query

    assert GifOptions(aspect="4:5").validate(check_model=False).aspect == "4:5"
    assert parse_query({"aspect": "9:16"}, GifOptions()) == {"aspect": "9:16"}
    with pytest.raises(UsageError) as err:
        parse_query({"aspect": "3:0"}, GifOptions())
    assert err.value.target == "aspect"
    with pytest.raises(UsageError) as err:
        GifOptions(aspect="wide").validate(check_model=False)
    assert err.value.target == "--aspect"


def test_make_on_a_video_smaller_than_the_crop(capsys, tmp_path):
    """32×16 pixels, 1 s: a 9:16 crop is 8×16; make still writes a valid GIF."""
    frames = [draw_disc_small(texture(10, 32, 16).copy(), 4 + i, 8) for i in range(24)]
    path = synthetic.write_video(tmp_path / "tiny.mp4", frames, fps=FPS)
    code, _, err = run_cli(capsys, "make", path, "-o", tmp_path / "out", "--backbone", "none",
                           "--aspect", "9:16", "-q")
    assert code == 0, err
    gifs = list((tmp_path / "out" / "tiny").glob("*.gif"))
    assert gifs
    with Image.open(gifs[0]) as im:
        assert im.size == (8, 16)
        im.seek(im.n_frames - 1)


def test_batch_crops_too(capsys, disc_with_cut, tmp_path):
    videos = tmp_path / "videos"
    videos.mkdir()
    (videos / "disc.mp4").write_bytes(disc_with_cut[0].read_bytes())
    code, _, err = run_cli(capsys, "batch", videos, "-o", tmp_path / "out", "-k", "1", "--width",
                           "64", "--backbone", "none", "--min-len", "1", "--max-len", "2",
                           "--aspect", "9:16", "-q")
    assert code == 0, err
    doc = json.loads((tmp_path / "out" / "disc" / "segments.json").read_text())
    (pick,) = [s for s in doc["segments"] if s["pick"]]
    assert pick["crop"]["aspect"] == "9:16"
    with Image.open(tmp_path / "out" / "disc" / pick["output"]) as gif:
        assert gif.size[0] == 64 and abs(gif.size[1] - 64 * 144 / 80) <= 2


def test_a_web_job_sets_its_aspect(disc_with_cut, tmp_path):
    pytest.importorskip("fastapi", reason="the web app is an extra: pip install 'video2gif[serve]'")
    pytest.importorskip("httpx2", reason="FastAPI's test client needs httpx2 (the test extra)")
    import time

    from fastapi.testclient import TestClient

    from video2gif.options import GifOptions
    from video2gif.serve import ServeConfig, create_app

    settings = GifOptions(k=1, width=96, min_length=1.0, max_length=2.0, backbone="none")
    config = ServeConfig(settings=settings, workers=1, queue=1, keep_seconds=60,
                         max_upload_bytes=2_000_000, work_dir=str(tmp_path))
    with TestClient(create_app(config), base_url="http://127.0.0.1:8000") as client:
        r = client.post("/api/jobs", params={"name": "disc.mp4", "aspect": "1:1"},
                        content=disc_with_cut[0].read_bytes())
        assert r.status_code == 202, r.text
        deadline = time.monotonic() + 90
        while (job := client.get(f"/api/jobs/{r.json()['id']}").json())["status"] not in (
                "done", "failed") and time.monotonic() < deadline:
            time.sleep(0.1)
        assert job["status"] == "done" and job["options"] == {"aspect": "1:1"}
        (gif,) = job["gifs"]
        assert gif["width"] == 96
        with Image.open(io.BytesIO(client.get(gif["url"]).content)) as im:
            assert im.size == (96, 96)
        bad = client.post("/api/jobs", params={"aspect": "3:0"}, content=b"x")
        assert bad.status_code == 422 and "aspect" in bad.json()["message"]


def test_a_pick_across_a_cut_restarts_its_crop_there(capsys, disc_with_cut, tmp_path):
    """Uniform 5-s candidates ignore shots, so the 4-s clip's one pick spans its cut at 2.0 s:
    the crop restarts there, with the box of the new shot from its first frame."""
    path, truth = disc_with_cut
    code, _, err = run_cli(capsys, "make", path, "-o", tmp_path / "out", "-k", "1", "--backbone",
                           "none", "--candidates", "uniform5", "--loop", "off", "--aspect", "9:16",
                           "-q")
    assert code == 0, err
    doc = json.loads((tmp_path / "out" / "disc" / "segments.json").read_text())
    (pick,) = [s for s in doc["segments"] if s["pick"]]
    crop = pick["crop"]
    assert [p["start"] for p in crop["pieces"]] == pytest.approx([pick["start"], 2.0], abs=0.05)
    after = next(b for b in crop["boxes"] if b[0] >= 2.0 - 1e-3)
    assert after[0] == pytest.approx(2.0, abs=1e-3)  # a new box on the cut's frame
    assert after[1] + RADIUS <= truth[48][0] <= after[1] + crop["width"] - RADIUS


def test_a_one_frame_video_with_a_crop_and_bounce_gives_a_gif(capsys, tmp_path):
    path = synthetic.write_video(tmp_path / "one.mp4", [draw_disc(texture(3, 64, 32), 20, 16)],
                                 fps=FPS)
    code, _, err = run_cli(capsys, "make", path, "-o", tmp_path / "out", "--backbone", "none",
                           "--aspect", "1:1", "--loop", "bounce", "-q")
    assert code == 0, err
    (gif,) = (tmp_path / "out" / "one").glob("*.gif")
    with Image.open(gif) as im:
        assert im.size == (32, 32) and im.n_frames == 1
