"""One options type: its CLI flags, web parameters, validation and settings hash all follow from
the fields of GifOptions; every flag an error names exists; one rule for same-stem outputs."""

from __future__ import annotations

import ast
import dataclasses
import re
from pathlib import Path

import click
import pytest
from PIL import Image

import video2gif
from video2gif import encode, segments
from video2gif.batch import result_names
from video2gif.cli import cli, main
from video2gif.errors import UsageError
from video2gif.formats import OUTPUT_FORMATS
from video2gif.options import GifOptions, option_fields, parse_query

from . import synthetic

PACKAGE = Path(video2gif.__file__).parent
# A string naming a flag (or flags joined by "/"), as validators and errors write them.
FLAG_TEXT = re.compile(r"^(--[a-z][a-z0-9-]*|-[a-z])(/(--[a-z][a-z0-9-]*|-[a-z]))*$")


def commands(group: click.Group = cli,
             ctx: click.Context | None = None) -> dict[str, click.Command]:
    """Every command of the CLI, by its path ("dataset build"), lazy ones included."""
    ctx = ctx or click.Context(group, info_name="video2gif")
    out = {}
    for name in group.list_commands(ctx):
        command = group.get_command(ctx, name)
        if isinstance(command, click.Group):
            out.update({f"{name} {k}": v for k, v in commands(command, ctx).items()})
        else:
            out[name] = command
    return out


def flags(command: click.Command) -> set[str]:
    return {o for p in command.params for o in (*p.opts, *p.secondary_opts)}


def all_flags() -> set[str]:
    help_flags = {"-h", "--help"}  # every command's, from the group's context settings
    return set().union(flags(cli), help_flags, *(flags(c) for c in commands().values()))


# -- the CLI shows the dataclass's defaults ---------------------------------------------------


@pytest.mark.parametrize("name", ["make", "segments", "batch", "serve"])
def test_help_shows_the_dataclass_defaults(name):
    command = cli.get_command(click.Context(cli), name)
    ctx = click.Context(command, info_name=name)
    params = {p.name: p for p in command.params}
    checked = 0
    for f, spec in option_fields():
        if f.name not in params:
            assert name == "segments" and spec.group == "output"  # segments encodes nothing
            continue
        param = params[f.name]
        assert spec.flag in param.opts
        assert param.default == f.default, f.name
        _, text = param.get_help_record(ctx)
        if spec.negate:  # a flag that turns the default off shows no default
            assert f.default is True and "[default" not in text
        elif f.default is None:
            assert spec.default_text and spec.default_text in " ".join(text.split())
        else:
            assert f"[default: {f.default}" in text or f"[default: {f.default};" in text, text
        checked += 1
    assert checked >= 10


def test_train_and_serve_flags_show_their_dataclass_defaults():
    from video2gif._cli.train_options import TRAIN_FLAGS
    from video2gif.serve import ServeConfig
    from video2gif.train import TrainOptions

    train = {p.name: p for p in commands()["train"].params}
    for name, (flag, _) in TRAIN_FLAGS.items():
        assert flag in train[name].opts and train[name].default == getattr(TrainOptions(), name)
    serve = {p.name: p for p in commands()["serve"].params}
    config = ServeConfig()
    for flag, field in [("workers", "workers"), ("queue", "queue"),
                        ("max_upload", "max_upload_bytes"), ("keep", "keep_seconds"),
                        ("upload_idle", "upload_idle_seconds")]:
        assert serve[flag].default == getattr(config, field), flag


def test_defaults_and_ranges_come_from_the_stages():
    o = GifOptions()
    assert (o.width, o.fps, o.max_bytes, o.colours, o.dither) == (
        encode.WIDTH, encode.FPS, encode.MAX_BYTES, encode.COLOURS, encode.DITHER)
    assert (o.min_length, o.max_length, o.stride) == (
        segments.MIN_SECONDS, segments.MAX_SECONDS, segments.STRIDE_SECONDS)
    assert o.segment_options().length == segments.TARGET_SECONDS
    spec = {f.name: s for f, s in option_fields()}
    assert spec["fps"].high == encode.MAX_FPS == 60  # the CLI takes what the encoder takes
    assert spec["format"].choices == tuple(OUTPUT_FORMATS) == encode.FORMATS
    # The stages' options are built from the same fields.
    assert dataclasses.asdict(o.encode_options()) == dataclasses.asdict(encode.EncodeOptions())
    assert o.segment_options() == segments.SegmentOptions()


def test_fps_60_is_accepted_everywhere(capsys):
    assert GifOptions(fps=60).validate().fps == 60
    assert parse_query({"fps": "60"}, GifOptions()) == {"fps": 60.0}
    with pytest.raises(SystemExit) as exit_info:
        main(["make", "missing.mp4", "-o", "out", "--fps", "61"])
    assert exit_info.value.code == 2 and "--fps" in capsys.readouterr().err


# -- every error names a flag that exists ------------------------------------------------------


def flags_named_in_the_package() -> dict[str, set[str]]:
    """Every string literal in the package that names a flag, with the files naming it."""
    found: dict[str, set[str]] = {}
    for path in PACKAGE.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                if FLAG_TEXT.match(node.value):
                    for flag in node.value.split("/"):
                        found.setdefault(flag, set()).add(path.relative_to(PACKAGE).as_posix())
    return found


def test_every_flag_the_package_names_exists():
    """Validators and errors name flags (``UsageError("--colours", ...)``); each must be a flag
    of some command, so a user can act on the message."""
    existing = all_flags()
    missing = {f: sorted(where) for f, where in flags_named_in_the_package().items()
               if f not in existing}
    assert not missing


def bad_values(f: dataclasses.Field, spec) -> list:
    if spec.choices is not None:
        return ["no-such-choice"]
    if spec.negate:
        return ["yes"]
    values = []
    if spec.low is not None:
        values.append(spec.low if spec.low_open else spec.low - 1)
    if spec.high is not None:
        values.append(spec.high + 1)
    return values


@pytest.mark.parametrize("field", [f for f, _ in option_fields()], ids=lambda f: f.name)
def test_validation_errors_name_a_real_flag(field):
    make = cli.get_command(click.Context(cli), "make")
    spec = field.metadata["option"]
    for value in bad_values(field, spec):
        with pytest.raises(UsageError) as error:
            dataclasses.replace(GifOptions(), **{field.name: value}).validate()
        assert error.value.target == spec.flag
        assert error.value.target in flags(make)


@pytest.mark.parametrize("changes", [
    {"min_length": 5.0, "max_length": 2.0}, {"length": 9.0}, {"length": 0.5},
    {"k": 0}, {"model": "no-such-model"}, {"backbone": "resnet"},
])
def test_cross_field_errors_name_real_flags(changes):
    make = cli.get_command(click.Context(cli), "make")
    with pytest.raises(video2gif.Video2GifError) as error:
        dataclasses.replace(GifOptions(), **changes).validate()
    assert set(error.value.target.split("/")) <= flags(make), error.value


# -- the web API takes the per-job fields, by their flag names ----------------------------------


def test_query_parameters_are_the_per_job_fields():
    overrides = parse_query({"k": "2", "width": "320", "max-bytes": "2M", "format": "webp",
                             "name": "a.mp4"}, GifOptions(), ignore=("name",))
    assert overrides == {"k": 2, "width": 320, "max_bytes": 2_000_000, "format": "webp"}
    for query, parameter in [({"width": "99999"}, "width"), ({"format": "exe"}, "format"),
                             ({"min-len": "9"}, "min-len"), ({"model": "x.npz"}, "model"),
                             ({"cache": "/tmp"}, "cache"), ({"fps": "fast"}, "fps")]:
        with pytest.raises(UsageError) as error:
            parse_query(query, GifOptions())
        assert error.value.target.split("/")[0] == parameter


# -- the settings hash -------------------------------------------------------------------------


def test_digest_counts_what_changes_the_outputs():
    base = GifOptions()
    assert base.digest() == GifOptions(length=segments.TARGET_SECONDS).digest()  # auto == explicit
    assert base.digest() == GifOptions(cache_dir="/elsewhere", use_cache=False).digest()
    for field, value in [("width", 320), ("format", "mp4"), ("k", 2), ("backbone", "none"),
                         ("stride", 0.5)]:
        assert dataclasses.replace(base, **{field: value}).digest() != base.digest(), field


def test_each_stage_gets_only_its_own_fields():
    """The output frame rate is not the backbone's sampling rate, though both are called fps."""
    from video2gif.features.extract import FeatureOptions

    options = GifOptions(fps=25)
    assert options.encode_options().fps == 25
    assert options.feature_options() == FeatureOptions()
    assert GifOptions.from_parts(features=FeatureOptions(fps=7)).fps == GifOptions().fps


def test_from_parts_maps_the_stage_options():
    options = GifOptions.from_parts(
        k=2, encode=encode.EncodeOptions(width=64, format="webp"),
        segments=segments.SegmentOptions(length=2.0, min_length=1.0, max_length=2.0))
    assert (options.k, options.width, options.format, options.length) == (2, 64, "webp", 2.0)
    with pytest.raises(TypeError):
        GifOptions.from_parts(colour=3)


# -- one rule for same-stem outputs ------------------------------------------------------------


def test_same_stem_rule():
    assert result_names(["x/a.mp4", "a.webm", "b.mp4"]) == ["a-mp4", "a-webm", "b"]
    assert result_names(["a.webm", "x/a.mp4"]) == ["a-webm", "a-mp4"]  # order does not matter
    assert result_names(["x/a.mp4", "y/a.mp4"]) == ["a-mp4", "a-mp4-2"]  # same name and type
    assert result_names(["a", "b"], ["c", "c/d"]) == ["c-noext", "c/d"]  # never nested


def test_make_and_batch_name_same_stem_results_alike(capsys, tmp_path):
    videos = tmp_path / "videos"
    videos.mkdir()
    for suffix in (".mp4", ".mkv"):
        synthetic.write_video(videos / f"clip{suffix}", synthetic.cuts(
            [(synthetic.moving(3, speed=2), 30), (synthetic.still(5), 30)]), fps=24)
    fast = ["-k", "1", "--width", "48", "--backbone", "none", "--min-len", "1", "--max-len",
            "1.5", "--no-cache", "-q"]
    for command, inputs in (("make", [videos / "clip.mp4", videos / "clip.mkv"]),
                            ("batch", [videos])):
        out = tmp_path / command
        with pytest.raises(SystemExit) as exit_info:
            main([command, *map(str, inputs), "-o", str(out), *fast]
                 + (["--workers", "1"] if command == "batch" else []))
        assert exit_info.value.code == 0, capsys.readouterr().err
        folders = sorted(p.name for p in out.iterdir() if p.is_dir())
        assert folders == ["clip-mkv", "clip-mp4"], command


# -- the API ----------------------------------------------------------------------------------


def test_make_gifs_takes_the_options(tmp_path):
    video = synthetic.write_video(tmp_path / "clip.mp4", synthetic.cuts(
        [(synthetic.moving(1, speed=2), 36), (synthetic.still(2), 36)]), fps=24)
    options = GifOptions(k=1, width=64, format="webp", backbone="none", use_cache=False,
                         min_length=1.0, max_length=1.5)
    made = video2gif.make_gifs(video, tmp_path / "out", options=options)
    (output,) = made.outputs
    assert output.path.suffix == ".webp" and output.width == 64
    assert Image.open(output.path).format == "WEBP"
    # A keyword argument overrides the options.
    made = video2gif.make_gifs(video, tmp_path / "out2", options=options, k=2)
    assert 1 <= len(made.outputs) <= 2


def test_the_cli_starts_without_torch():
    """Only ``train`` (and the scorers, when they run) need torch; ``--help``, ``shots`` and the
    usage errors answer without its 2 s import. ``train`` is loaded when it is used."""
    import subprocess
    import sys

    code = ("import sys, video2gif.cli as c; c.cli.get_command(None, 'make'); "
            "print('torch' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_help_imports_no_heavy_module():
    """``video2gif --help`` and ``video2gif make --help`` import neither numba (the GIF encoder
    compiles on its first call), torch, nor the web and cluster extras; the encoder still
    compiles and runs once called (its compiled functions call each other across modules)."""
    import subprocess
    import sys

    heavy = ("numba", "torch", "fastapi", "ray")
    code = (
        "import sys\n"
        "from click.testing import CliRunner\n"
        "import video2gif.cli as c\n"
        "for args in (['--help'], ['make', '--help'], ['segments', '--help']):\n"
        "    r = CliRunner().invoke(c.cli, args)\n"
        "    assert r.exit_code == 0 and 'Usage' in r.output, r.output\n"
        f"print(sorted(m for m in {heavy!r} if m in sys.modules))\n"
        "import numpy as np\n"
        "from video2gif.gif import encode_gif\n"
        "frames = [np.random.default_rng(i).integers(0, 256, (8, 8, 3), np.uint8) for i in (0, 1)]\n"
        "encode_gif(frames, [1, 1], 10.0)\n"
        "print('numba' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split("\n")[:2] == ["[]", "True"]
