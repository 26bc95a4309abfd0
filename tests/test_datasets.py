"""Annotation format, the Video2GIF and PHD-GIFs readers, and training labels."""

from __future__ import annotations

import json
import warnings

import numpy as np
import pytest

from video2gif.datasets import (
    GifInterval,
    VideoAnnotation,
    detect_format,
    label_segments,
    load_annotations,
    phd_gifs_annotations,
    read_annotations,
    read_id_list,
    read_pairs,
    read_phd_gifs,
    read_video2gif_metadata,
    write_annotations,
)
from video2gif.errors import DatasetError, DatasetWarning, InputError, UsageError

from .conftest import DATASETS

SEP = ";\t"


def dataset(relative: str):
    path = DATASETS / relative
    if not path.exists():
        pytest.skip(f"{relative} not found: put the benchmark annotations in {DATASETS}")
    return path


def warned_lines(record) -> list[str]:
    return [str(w.message) for w in record if issubclass(w.category, DatasetWarning)]


# -- generic format ----------------------------------------------------------------------------


def test_annotations_round_trip(tmp_path):
    videos = [
        VideoAnnotation(
            id="abc", duration=120.5, fps=29.97,
            gifs=(GifInterval(3.0, 6.5, views=1200, age_days=30.0, user_id="u7"),
                  GifInterval(40.0, 42.0, start_frame=1199, end_frame=1259)),
            path="videos/abc.mp4", category="Music", tags=("live", "guitar"), split="test",
            frames=3612,
        ),
        VideoAnnotation(id="d", duration=8.0, fps=None, gifs=[GifInterval(0.0, 7.66)]),
    ]
    path = write_annotations(videos, tmp_path / "a.jsonl")
    assert read_annotations(path) == videos
    lines = path.read_text().splitlines()
    assert len(lines) == 2 and json.loads(lines[1])["gifs"] == [{"start": 0.0, "end": 7.66}]
    assert not [p for p in tmp_path.iterdir() if ".tmp-" in p.name]


def test_unknown_keys_are_kept(tmp_path):
    path = tmp_path / "a.jsonl"
    path.write_text('{"id": "x", "duration": 5, "gifs": [], "source": "gifs.com"}\n')
    [video] = read_annotations(path)
    assert video.extra == {"source": "gifs.com"} and video.fps is None and video.gifs == ()
    assert write_annotations([video], tmp_path / "b.jsonl").read_text().count('"source"') == 1


def test_malformed_lines_are_reported_with_their_numbers(tmp_path):
    path = tmp_path / "a.jsonl"
    path.write_text(
        '{"id": "ok", "duration": 10, "gifs": [{"start": 1, "end": 2}]}\n'
        "\n"
        '{"id": "bad json", \n'
        '{"id": "neg", "duration": -3, "gifs": []}\n'
        '{"id": "back", "duration": 10, "gifs": [{"start": 5, "end": 4}]}\n'
        '{"duration": 10, "gifs": []}\n'
        '{"id": "ok2", "duration": 10, "gifs": [{"start": 0, "end": 1, "views": "many"}]}\n'
        '{"id": "last", "duration": 10, "gifs": []}\n'
    )
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        videos = read_annotations(path)
    assert [v.id for v in videos] == ["ok", "last"]
    messages = warned_lines(record)
    assert [m.split(": ")[0] for m in messages] == [f"{path}:{n}" for n in (3, 4, 5, 6, 7)]
    assert "duration must be positive" in messages[1]
    assert "gifs[0] ends at 4.0 s" in messages[2]
    assert "id is missing" in messages[3] and "views must be a number" in messages[4]
    with pytest.raises(DatasetError) as e:
        read_annotations(path, strict=True)
    assert e.value.target == f"{path}:3"


def test_missing_file_and_folder_errors(tmp_path):
    with pytest.raises(InputError, match="no such file"):
        read_annotations(tmp_path / "none.jsonl")
    with pytest.raises(InputError, match="does not exist"):
        write_annotations([], tmp_path / "no" / "dir.jsonl")


# -- PHD-GIFs ----------------------------------------------------------------------------------


PHD_SAMPLE = """youtubeId,start,duration,user_id,video_duration,is_last
dhuI9TO1rY8,204.39,7.08,12999,314.0,True
dhuI9TO1rY8,206.29,5.29,12999,314.0,True
Z-aTqtRBTIM,0.0,7.66,12999,8.0,False
dhuI9TO1rY8,10.0,3.0,500,314.0,True
Pg-JqajsJGU,192.086,3.64568,501,-1.0,True
An7ylfOhlOs,eighty,7.55,12999,133.0,False
An7ylfOhlOs,82.99,7.55,12999,133.0,maybe
An7ylfOhlOs,82.99,7.55
"""


def test_read_phd_gifs_keeps_users_and_last_flags(tmp_path):
    path = tmp_path / "phd.csv"
    path.write_text(PHD_SAMPLE)
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        rows = read_phd_gifs(path)
    assert len(rows) == 5
    assert [(r.user_id, r.is_last, r.line) for r in rows[:3]] == [
        ("12999", True, 2), ("12999", True, 3), ("12999", False, 4)]
    assert rows[0].end == pytest.approx(211.47) and rows[4].video_duration is None
    messages = warned_lines(record)
    assert [m.split(": ")[0] for m in messages] == [f"{path}:{n}" for n in (7, 8, 9)]
    assert "start must be a number" in messages[0] and "is_last" in messages[1]
    with pytest.raises(DatasetError, match=":7"):
        read_phd_gifs(path, strict=True)


def test_phd_gifs_annotations_per_user_last_video(tmp_path):
    path = tmp_path / "phd.csv"
    path.write_text(PHD_SAMPLE)
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        rows = read_phd_gifs(path)
        last = phd_gifs_annotations(rows, which="last")
    # Two users cut GIFs from dhuI9TO1rY8 as their last video: two queries; Pg-JqajsJGU has an
    # unknown duration and is left out, with its line numbers.
    assert [(v.id, len(v.gifs), v.gifs[0].user_id) for v in last] == [
        ("dhuI9TO1rY8", 2, "12999"), ("dhuI9TO1rY8", 1, "500")]
    assert last[0].duration == 314.0 and last[0].split == "last" and last[0].fps is None
    assert any("Pg-JqajsJGU (lines 6)" in m for m in warned_lines(record))
    with pytest.warns(DatasetWarning, match="Pg-JqajsJGU"):
        merged = phd_gifs_annotations(rows, which="all", per_user=False)
    assert [(v.id, len(v.gifs), v.split) for v in merged] == [
        ("dhuI9TO1rY8", 3, "last"), ("Z-aTqtRBTIM", 1, "history")]
    with pytest.raises(UsageError):
        phd_gifs_annotations(rows, which="first")


def test_phd_gifs_missing_column(tmp_path):
    path = tmp_path / "phd.csv"
    path.write_text("youtubeId,start,duration\nabc,1,2\n")
    with pytest.raises(DatasetError, match="user_id"):
        read_phd_gifs(path)


def test_real_phd_gifs_test_set():
    path = dataset("phd_gifs/testing.csv")
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        rows = read_phd_gifs(path)
    assert not warned_lines(record)  # every row of the published file is well formed
    assert len(rows) == 20488
    assert len({r.user_id for r in rows}) == 850
    assert len({r.user_id for r in rows if r.is_last}) == 850
    assert len({r.youtube_id for r in rows if r.is_last}) == 845
    assert detect_format(path) == "phd_gifs"


# -- Video2GIF ---------------------------------------------------------------------------------


def v2g_row(vid, gif_id, sf, ef, ss, es, views="1500", age="120", duration="60.06",
            frames="1800", description="A video"):
    fields = [vid, "True", gif_id, f"http://x/{gif_id}.gif", sf, ef, ss, es, "title", views, age,
              "Video title", "90000", "2014-01-01", "500", duration, frames, "Music", "4.8",
              description, "2015-07-01"]
    return SEP.join(fields)


def test_read_video2gif_metadata(tmp_path):
    header = SEP.join(["youtube_id", "is_creative_commons", "gif_id"] + ["x"] * 18)
    lines = [
        header,
        v2g_row("vidA", "g1", "300", "450", "10.01", "15.015"),
        v2g_row("vidA", "g2", "900", "960", "30.03", "32.032", views="", age="nan",
                description=f"has{SEP}a separator inside"),
        v2g_row("vidB", "g3", "0", "30", "0.0", "1.0", duration="10", frames="240"),
        v2g_row("vidC", "g4", "50", "40", "2.0", "1.0"),  # ends before it starts
        "vidD;\ttoo;\tfew",
        v2g_row("vidE", "g5", "10", "20", "1.0", "2.0", frames="many"),
    ]
    path = tmp_path / "metadata.txt"
    path.write_text("\n".join(lines) + "\n")
    testset = tmp_path / "testset.txt"
    testset.write_text("vidB\nvidZ\n\n")
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        videos = read_video2gif_metadata(path, testset=testset)
    messages = warned_lines(record)
    assert [m.split(": ")[0] for m in messages[:3]] == [f"{path}:{n}" for n in (5, 6, 7)]
    assert "fields" in messages[1] and "video_frame_count" in messages[2]
    assert "1 test video(s) have no GIF rows: vidZ" in messages[3]
    a, b = videos
    assert (a.id, a.split, b.id, b.split) == ("vidA", "train", "vidB", "test")
    assert a.frames == 1800 and a.fps == pytest.approx(1800 / 60.06) and a.category == "Music"
    assert a.gifs[0] == GifInterval(10.01, 15.015, views=1500.0, age_days=120.0,
                                    start_frame=300, end_frame=450)
    assert a.gifs[1].views is None and a.gifs[1].age_days is None
    assert detect_format(path) == "video2gif"
    with pytest.warns(DatasetWarning):
        only_test = load_annotations(path, testset=testset)
    assert [v.id for v in only_test] == ["vidB"]


def test_real_video2gif_testset_ids():
    ids = read_id_list(dataset("video2gif/testset.txt"))
    assert len(ids) == 357 and len(set(ids)) == 357 and all(len(i) == 11 for i in ids)


def test_load_annotations_rejects_unknown_formats(tmp_path):
    path = tmp_path / "x.txt"
    path.write_text("hello\n")
    with pytest.raises(DatasetError, match="not a known annotation format"):
        load_annotations(path)
    jsonl = write_annotations([VideoAnnotation("a", 5.0, None, ())], tmp_path / "a.jsonl")
    with pytest.raises(UsageError, match="--testset"):
        load_annotations(jsonl, testset=tmp_path / "t.txt")


# -- labels ------------------------------------------------------------------------------------


def test_label_segments_hand_cases():
    gifs = (GifInterval(10.0, 13.0), GifInterval(20.0, 21.0), GifInterval(21.0, 22.0))
    segments = np.array([
        [10.0, 13.0],  # fully covered: positive
        [11.0, 14.0],  # 2 of 3 s = 66.7%: positive
        [10.0, 15.0],  # 3 of 5 s = 60%: unused
        [0.0, 3.0],  # no overlap: negative
        [13.0, 16.0],  # touches the GIF's end only: negative
        [20.0, 22.0],  # two GIFs cover 50% each: no single GIF covers 66%: unused
        [9.0, 10.01],  # a hair of overlap: unused
    ])
    assert label_segments(segments, gifs).tolist() == [1, 1, -1, 0, 0, -1, -1]
    assert label_segments(segments, gifs, positive_coverage=0.5).tolist() == [1, 1, 1, 0, 0, 1, -1]
    as_array = np.array([[g.start, g.end] for g in gifs])
    assert label_segments(segments, as_array).dtype == np.int8
    assert label_segments(segments, ()).tolist() == [0] * 7


def test_label_segments_rejects_bad_input():
    with pytest.raises(UsageError):
        label_segments(np.array([[3.0, 3.0]]), ())
    with pytest.raises(UsageError):
        label_segments(np.array([[0.0, 3.0]]), (), positive_coverage=1.5)


# -- pairs -------------------------------------------------------------------------------------


def test_read_pairs_resolves_paths_and_reports_bad_rows(tmp_path):
    path = tmp_path / "pairs.csv"
    path.write_text("gif,video,views\na.gif,v.mp4,10\nb.gif,,3\nc.gif,v.mp4,lots\nd.gif,v.mp4\n")
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        pairs = read_pairs(path)
    assert [(p.gif, p.video, p.views, p.line) for p in pairs] == [
        (str(tmp_path / "a.gif"), str(tmp_path / "v.mp4"), 10.0, 2)]
    assert [m.split(": ")[0] for m in warned_lines(record)] == [f"{path}:{n}" for n in (3, 4, 5)]
    path.write_text("file,video\n")
    with pytest.raises(DatasetError, match="gif"):
        read_pairs(path)
