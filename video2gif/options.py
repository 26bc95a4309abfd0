"""One options type for making GIFs, shared by the Python API, ``make``, ``batch`` and ``serve``.

:class:`GifOptions` is a frozen dataclass. Every field carries, as metadata, its command-line
flag, its help and the values it accepts (choices or a numeric range), all read from the
constants of the stage that owns them. Everything else follows from that one declaration:

- the CLI flags: :func:`click_options` turns the fields into click options (``make``,
  ``segments``, ``batch``, ``serve``, and the feature flags of ``train``);
- the web API's query parameters: :func:`parse_query` (``POST /api/jobs?k=3&width=320``),
  for the fields marked ``per_job``;
- validation: :meth:`GifOptions.validate` checks every field against its metadata, then the
  stages' own cross-field rules; each error names the field's flag;
- the batch settings hash: :meth:`GifOptions.digest`, over the fields that change the outputs.

So adding an option is adding one field here (and using it where it acts).

Example:
    >>> options = GifOptions(k=3, width=320)
    >>> options.encode_options().width
    320
    >>> import dataclasses
    >>> dataclasses.replace(options, format="webp").validate().format
    'webp'
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import click

from . import crop, encode, segments
from .encode import DITHER_ALIASES, DITHERS, EncodeOptions
from .errors import ModelError, UsageError
from .features.backbones import DEFAULT_BACKBONE, backbone_choices
from .features.cache import MAX_BYTES as CACHE_MAX_BYTES
from .features.extract import FeatureOptions
from .formats import DEFAULT_FORMAT, OUTPUT_FORMATS
from .loop import DEFAULT_LOOP, LOOP_MODES
from .scorers import DEFAULT_MODEL
from .segments import SegmentOptions

K = 5  # GIFs made per video

# Groups of fields, for commands that take only some: what to pick, what the files look like,
# how candidates are cut and scored, which features are measured.
PICK, OUTPUT, SEGMENTS, FEATURES = "pick", "output", "segments", "features"


@dataclass(frozen=True)
class Option:
    """How one :class:`GifOptions` field appears to users (stored in the field's metadata)."""

    flag: str  # the CLI flag, e.g. "--max-bytes"; the query parameter is it without dashes
    help: str  # one line for --help
    group: str  # PICK, OUTPUT, SEGMENTS or FEATURES
    # The accepted values of a text option, or a function giving them (for registries that can
    # grow after import, such as the backbones).
    choices: tuple[str, ...] | Callable[[], tuple[str, ...]] | None = None
    low: float | None = None  # smallest accepted number (None: unbounded)
    high: float | None = None  # largest accepted number (None: unbounded)
    low_open: bool = False  # the bound ``low`` itself is refused
    size: bool = False  # a byte size: also accepts 500K, 8M, 1GiB
    folder: bool = False  # a folder path
    negate: bool = False  # a boolean that is on by default: the flag turns it off
    default_text: str | None = None  # --help's default when the field's default is None
    per_job: bool = False  # a web user may set it per job (POST /api/jobs query parameter)
    in_digest: bool = True  # changes the outputs, so it counts in the batch settings hash
    palette: bool = False  # applies only to formats with a palette (OutputFormat.palette)

    @property
    def query_name(self) -> str:
        """The web API's name for it: the flag without its dashes (``max-bytes``)."""
        return self.flag.lstrip("-")

    def allowed(self) -> tuple[str, ...] | None:
        """The accepted values of a text option now (None: any)."""
        return self.choices() if callable(self.choices) else self.choices

    def click_type(self, kind: type) -> click.ParamType | type:
        """The click type that parses and range-checks a value given as text."""
        if self.choices is not None:
            return click.Choice(self.allowed())
        if self.size:
            return ByteSize(min=int(self.low) if self.low is not None else None)
        if self.folder:
            return click.Path(file_okay=False, path_type=str)
        if kind is int:
            return click.IntRange(min=self.low, max=self.high, min_open=self.low_open)
        if kind is float:
            return click.FloatRange(min=self.low, max=self.high, min_open=self.low_open)
        return str

    def check(self, value: Any, kind: type) -> None:
        """Raise UsageError naming the flag when ``value`` is outside what this option accepts."""
        if value is None:
            return
        if kind is bool:
            if not isinstance(value, bool):
                raise UsageError(self.flag, f"{value!r} is not true or false")
            return
        if self.choices is not None:
            if value not in self.allowed():
                raise UsageError(self.flag, f"{value!r} is not one of "
                                            f"{', '.join(self.allowed())}")
            return
        if kind in (int, float):
            if isinstance(value, bool) or not isinstance(value, (int, float)) or (
                    kind is int and not float(value).is_integer()):
                what = "an integer" if kind is int else "a number"
                raise UsageError(self.flag, f"{value!r} is not {what}")
            if self.low is not None and (value < self.low or (self.low_open and value == self.low)):
                raise UsageError(self.flag, f"must be {'above' if self.low_open else 'at least'} "
                                            f"{self.low:g}")
            if self.high is not None and value > self.high:
                raise UsageError(self.flag, f"must be at most {self.high:g}")
        elif not isinstance(value, str):
            raise UsageError(self.flag, f"{value!r} is not text")


def _option(default: Any, flag: str, help: str, group: str, **kw: Any) -> Any:
    return field(default=default, metadata={"option": Option(flag, help, group, **kw)})


_DITHER_CHOICES = (*DITHERS, *DITHER_ALIASES)
PALETTE_FORMATS = tuple(f.name for f in OUTPUT_FORMATS.values() if f.palette)  # Option.palette


@dataclass(frozen=True)
class GifOptions:
    """What to make of each video. Override with ``dataclasses.replace(options, ...)``.

    Every field is a flag of ``video2gif make`` (see its metadata); the defaults are the owning
    stages' constants.
    """

    # -- what to pick --
    k: int = _option(K, "-k", "How many GIFs per video.", PICK, low=1, per_job=True)
    # -- what the files look like (video2gif.encode) --
    width: int = _option(encode.WIDTH, "--width", "Output width in pixels (never upscaled).",
                         OUTPUT, low=encode.MIN_WIDTH, high=encode.MAX_WIDTH, per_job=True)
    fps: float = _option(encode.FPS, "--fps", "Output frame rate.", OUTPUT, low=0,
                         low_open=True, high=encode.MAX_FPS, per_job=True)
    max_bytes: int | None = _option(
        encode.MAX_BYTES, "--max-bytes", "Size budget per file (bytes, or 500K, 8M; 0: none); "
        "met by lowering quality, fps, width, colours.", OUTPUT, low=0, size=True, per_job=True)
    format: str = _option(DEFAULT_FORMAT, "--format", "Output format.", OUTPUT,
                          choices=tuple(OUTPUT_FORMATS), per_job=True)
    colours: int = _option(encode.COLOURS, "--colours", "GIF palette size.", OUTPUT,
                           low=encode.MIN_COLOURS, high=encode.COLOURS, per_job=True,
                           palette=True)
    dither: str = _option(encode.DITHER, "--dither", "GIF dithering (ordered = bayer, "
                          "diffusion = sierra2_4a).", OUTPUT, choices=_DITHER_CHOICES,
                          per_job=True, palette=True)
    quality: int = _option(encode.QUALITY, "--quality", "GIF quality: lower is smaller (fewer "
                           "redrawn pixels, lossy LZW); --max-bytes lowers it first.", OUTPUT,
                           low=encode.MIN_QUALITY, high=encode.MAX_QUALITY, per_job=True,
                           palette=True)
    loop: str = _option(DEFAULT_LOOP, "--loop", "How each GIF loops: auto (ends where "
                        "the jump back is smallest, cross-fades if that pays), off, or bounce "
                        "(forward then backward).", OUTPUT, choices=LOOP_MODES, per_job=True)
    aspect: str = _option(crop.SOURCE, "--aspect", "Crop each GIF to this shape, following "
                          "the faces, else the motion; the crop restarts at every cut "
                          "(source: no crop).", OUTPUT, choices=crop.ASPECTS, per_job=True)
    # -- how candidates are cut (video2gif.segments) and scored --
    min_length: float = _option(segments.MIN_SECONDS, "--min-len", "Shortest candidate, "
                                "seconds (shorter shots are dropped).", SEGMENTS, low=0,
                                low_open=True, per_job=True)
    max_length: float = _option(segments.MAX_SECONDS, "--max-len", "Longest candidate: shots "
                                "up to this long stay whole.", SEGMENTS, low=0, low_open=True,
                                per_job=True)
    length: float | None = _option(
        None, "--length", "Window length in longer shots, seconds.", SEGMENTS, low=0,
        low_open=True, per_job=True,
        default_text=f"{segments.TARGET_SECONDS:g}, kept within --min-len and --max-len")
    stride: float = _option(segments.STRIDE_SECONDS, "--stride", "Step between windows in "
                            "longer shots, seconds.", SEGMENTS, low=0, low_open=True,
                            per_job=True)
    candidates: str = _option(segments.SHOT_CANDIDATES, "--candidates", "Candidates: windows "
                              f"inside shots, or {segments.UNIFORM_CANDIDATES} (the 2016 "
                              "release tutorial's uniform segments; ignores the lengths).",
                              SEGMENTS, choices=segments.CANDIDATES, per_job=True)
    model: str = _option(DEFAULT_MODEL, "--model", "Scorer: a registered name or a model file.",
                         SEGMENTS)
    # -- which features are measured (video2gif.features) --
    backbone: str = _option(DEFAULT_BACKBONE, "--backbone", "Visual features.", FEATURES,
                            choices=backbone_choices)
    weights_dir: str | None = _option(
        None, "--weights-dir", "Folder of the released C3D/Video2GIF files (c3d_model.pkl, "
        "snipplet_mean.npy, video2gif_weights.npz).", FEATURES, folder=True,
        default_text="$VIDEO2GIF_WEIGHTS_DIR")
    cache_dir: str | None = _option(None, "--cache", "Feature cache folder.", FEATURES,
                                    folder=True, in_digest=False,
                                    default_text="$XDG_CACHE_HOME/video2gif/features")
    use_cache: bool = _option(True, "--no-cache", "Neither read nor write the feature cache.",
                              FEATURES, negate=True, in_digest=False)
    cache_max: int = _option(CACHE_MAX_BYTES, "--cache-max", "Size cap of the feature cache "
                             "(bytes, or 500M, 5G; 0: none); least recently used entries go "
                             "first.", FEATURES, low=0, size=True, in_digest=False)

    # -- checks ---------------------------------------------------------------------------------

    def validate(self, check_model: bool = True) -> GifOptions:
        """Return self, or raise UsageError naming the flag at fault.

        Checks each field against its metadata, then the stages' own rules; with
        ``check_model``, a model file is loaded too (ModelError when it is bad), so a batch
        fails before any work rather than in every worker.
        """
        for f, spec in option_fields():
            spec.check(getattr(self, f.name), _kind(f))
        self.encode_options().validate()
        self.segment_options().validate()
        if check_model:
            from .scorers import MODELS, load_model

            if self.model not in MODELS:  # a file: small, so load it now; names load in workers
                if not Path(self.model).is_file():
                    raise ModelError("--model", f"{self.model!r} is neither a model name ("
                                                f"{', '.join(sorted(MODELS))}) nor a file")
                load_model(self.model, weights_dir=self.weights_dir)
        return self

    def unused_flags(self) -> list[str]:
        """Flags set away from their defaults that the chosen format does not use (quality,
        colours and dither for webp and mp4), so a caller can say so.

        Example:
            >>> GifOptions(format="mp4", quality=50).unused_flags()
            ['--quality']
        """
        if self.format in PALETTE_FORMATS:
            return []
        return [spec.flag for f, spec in option_fields()
                if spec.palette and getattr(self, f.name) != f.default]

    # -- the stages' own options ----------------------------------------------------------------

    def encode_options(self) -> EncodeOptions:
        """The encoder's options (format, width, fps, byte budget, palette)."""
        return _part(EncodeOptions, self, OUTPUT)

    def segment_options(self) -> SegmentOptions:
        """The candidate lengths; an unset ``length`` is the default kept within min and max."""
        length = self.length
        if length is None:
            length = min(max(segments.TARGET_SECONDS, self.min_length), self.max_length)
        return dataclasses.replace(_part(SegmentOptions, self, SEGMENTS), length=length)

    def feature_options(self) -> FeatureOptions:
        """What the features stage measures (backbone, weights)."""
        return _part(FeatureOptions, self, FEATURES)

    def feature_extractor(self):
        """A :class:`~video2gif.features.extract.FeatureExtractor` with the feature cache these
        options ask for; reuse it across videos (it holds the loaded backbone)."""
        from .features.cache import FeatureCache
        from .features.extract import FeatureExtractor

        cache = FeatureCache(self.cache_dir, self.cache_max) if self.use_cache else None
        return FeatureExtractor(self.feature_options(), cache=cache)

    @classmethod
    def from_parts(cls, base: GifOptions | None = None, **parts: Any) -> GifOptions:
        """Options with fields taken from the stages' option objects and plain values.

        ``parts`` may hold ``encode`` (EncodeOptions), ``segments`` (SegmentOptions) and
        ``features`` (FeatureOptions), whose fields named like one of the matching group are
        copied, and any field of GifOptions; None values are ignored.

        Example:
            >>> GifOptions.from_parts(k=2, encode=EncodeOptions(width=64)).width
            64
        """
        names = {f.name for f in dataclasses.fields(cls)}
        values: dict[str, Any] = {}
        for key, group in (("encode", OUTPUT), ("segments", SEGMENTS), ("features", FEATURES)):
            part = parts.pop(key, None)
            if part is not None:
                mine = {f.name for f, _ in option_fields(group)}
                values.update({f.name: getattr(part, f.name) for f in dataclasses.fields(part)
                               if f.name in mine})
        unknown = set(parts) - names
        if unknown:
            raise TypeError(f"GifOptions has no field {', '.join(sorted(unknown))}")
        values.update({k: v for k, v in parts.items() if v is not None})
        return dataclasses.replace(base or cls(), **values)

    # -- the batch settings hash ----------------------------------------------------------------

    def digest(self) -> str:
        """SHA-256 over every field that changes the outputs; a model file counts by its
        contents, the cache settings do not count."""
        acting = self.resolved()
        doc = {f.name: getattr(acting, f.name) for f, spec in option_fields() if spec.in_digest}
        doc["model"] = _model_identity(self.model)
        text = json.dumps(doc, sort_keys=True, separators=(",", ":"), default=str)
        return hashlib.sha256(text.encode()).hexdigest()

    def resolved(self) -> GifOptions:
        """The same options with every "auto" value replaced by the value it stands for, so
        that two ways of asking for the same output compare (and hash) equal."""
        return dataclasses.replace(self, length=self.segment_options().length)


def option_fields(*groups: str) -> list[tuple[dataclasses.Field, Option]]:
    """The fields of :class:`GifOptions` in ``groups`` (all when none), in declaration order."""
    return [(f, f.metadata["option"]) for f in dataclasses.fields(GifOptions)
            if "option" in f.metadata and (not groups or f.metadata["option"].group in groups)]


def _kind(f: dataclasses.Field) -> type:
    """The field's value type (int, float, bool or str), from its annotation."""
    text = str(f.type)
    for name, kind in (("bool", bool), ("int", int), ("float", float)):
        if re.match(rf"^{name}\b", text):
            return kind
    return str


def _part(cls, options: GifOptions, group: str):
    """An instance of the stage options ``cls``, with the same-named fields of ``options`` in
    ``group`` (so the output ``fps`` never becomes the feature stage's sampling ``fps``)."""
    names = {f.name for f, _ in option_fields(group)}
    return cls(**{f.name: getattr(options, f.name) for f in dataclasses.fields(cls)
                  if f.name in names})


def _model_identity(model: str) -> str:
    from ._io import sha256_file
    from .scorers import MODELS

    if model in MODELS or not Path(model).is_file():
        return model
    return f"file:sha256:{sha256_file(model)}"


# -- the command line -------------------------------------------------------------------------


def click_options(*groups: str) -> Callable:
    """A decorator adding one click option per field of ``groups`` (all when none), in field
    order; the command receives them as keyword arguments named like the fields, for
    :meth:`GifOptions` (``GifOptions(**kwargs)`` or :func:`from_cli`).

    Example:
        >>> @click.command()
        ... @click_options(PICK, OUTPUT)
        ... def make(**fields): ...
    """
    def decorate(f: Callable) -> Callable:
        for fld, spec in reversed(option_fields(*groups)):
            f = _click_option(fld, spec)(f)
        return f

    return decorate


def _click_option(f: dataclasses.Field, spec: Option) -> Callable:
    if spec.negate:
        return click.option(spec.flag, f.name, is_flag=True, flag_value=not f.default,
                            default=f.default, help=spec.help)
    shown = spec.default_text if f.default is None and spec.default_text else True
    return click.option(spec.flag, f.name, type=spec.click_type(_kind(f)), default=f.default,
                        show_default=shown, help=spec.help)


def from_cli(values: Mapping[str, Any], base: GifOptions | None = None) -> GifOptions:
    """Validated options from a command's keyword arguments (the fields it was given)."""
    names = {f.name for f, _ in option_fields()}
    return dataclasses.replace(base or GifOptions(),
                               **{k: v for k, v in values.items() if k in names}).validate()


# -- the web API ------------------------------------------------------------------------------


def query_parameters() -> dict[str, tuple[dataclasses.Field, Option]]:
    """The per-job fields by their query parameter name (``max-bytes`` → its field)."""
    return {spec.query_name: (f, spec) for f, spec in option_fields() if spec.per_job}


def query_form(base: GifOptions | None = None) -> list[dict[str, Any]]:
    """The per-job fields as plain data, for a form to build its controls from (the web page).

    Each entry: ``name`` (the query parameter), ``field``, ``help``, ``group``, ``kind`` (int,
    float, size, choice, bool or text), ``choices``, ``low``, ``high``, ``low_open``,
    ``default`` (the dataclass default), ``default_text`` (its description when None),
    ``value`` (``base``'s, which a job gets when the parameter is not sent) and ``formats``
    (the output formats it applies to; None: all).

    Example:
        >>> [f["kind"] for f in query_form() if f["name"] in ("quality", "aspect", "max-bytes")]
        ['size', 'int', 'choice']
    """
    base = base or GifOptions()
    form = []
    for name, (f, spec) in query_parameters().items():
        kind = _kind(f)
        form.append({
            "name": name, "field": f.name, "help": spec.help, "group": spec.group,
            "kind": ("choice" if spec.choices is not None else "size" if spec.size
                     else kind.__name__ if kind is not str else "text"),
            "choices": list(spec.allowed() or []) or None, "low": spec.low, "high": spec.high,
            "low_open": spec.low_open, "default": f.default, "default_text": spec.default_text,
            "value": getattr(base, f.name),
            "formats": list(PALETTE_FORMATS) if spec.palette else None,
        })
    return form


def parse_query(query: Mapping[str, str], base: GifOptions,
                ignore: Sequence[str] = ()) -> dict[str, Any]:
    """The per-job overrides a web request asks for, converted and checked.

    Arguments:
        query: the request's query parameters.
        base: the server's options, which the overrides must be valid with.
        ignore: parameters the caller handles itself (e.g. ``name``).

    Returns:
        ``{field name: value}`` for the parameters given.

    Raises:
        UsageError: an unknown parameter, or a bad value; ``target`` is the parameter's name.

    Example:
        >>> parse_query({"k": "3", "max-bytes": "2M"}, GifOptions())
        {'k': 3, 'max_bytes': 2000000}
    """
    known = query_parameters()
    overrides: dict[str, Any] = {}
    for name, text in query.items():
        if name in ignore:
            continue
        if name not in known:
            raise UsageError(name, f"unknown parameter; accepted: {', '.join(['name', *known])}")
        f, spec = known[name]
        try:
            overrides[f.name] = spec.click_type(_kind(f)).convert(text, None, None)
        except click.BadParameter as e:
            raise UsageError(name, e.message) from None
    try:
        dataclasses.replace(base, **overrides).validate(check_model=False)  # not per job
    except UsageError as e:  # name the parameter, not the flag
        raise UsageError(_query_name(e.target), e.reason) from None
    return overrides


def _query_name(target: str) -> str:
    return "/".join(part.lstrip("-") for part in target.split("/"))


# -- sizes ------------------------------------------------------------------------------------

_SIZE_UNITS = {"": 1, "K": 10**3, "M": 10**6, "G": 10**9, "T": 10**12,  # bytes per unit
               "KI": 2**10, "MI": 2**20, "GI": 2**30, "TI": 2**40}


class ByteSize(click.ParamType):
    """A size in bytes: 1000000, 500K, 200M, 1G (powers of 1000) or KiB, MiB, GiB.

    Arguments:
        min: the smallest accepted size (default 1 byte).
    """

    name = "SIZE"

    def __init__(self, min: int | None = 1) -> None:
        self.min = 1 if min is None else min

    def convert(self, value, param, ctx):
        if isinstance(value, int) and not isinstance(value, bool):
            size = value
        else:
            m = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([KMGT]I?)?B?\s*", str(value).upper())
            if not m:
                self.fail(f"{value!r} is not a size (e.g. 1G, 500M, 1000000)", param, ctx)
            size = int(float(m.group(1)) * _SIZE_UNITS[m.group(2) or ""])
        if size < self.min:
            self.fail(f"must be at least {self.min} byte{'s' if self.min != 1 else ''}", param,
                      ctx)
        return size


__all__ = ["GifOptions", "Option", "ByteSize", "K", "click_options", "from_cli",
           "option_fields", "parse_query", "query_form", "query_parameters"]
