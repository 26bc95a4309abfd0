"""How the web app runs: its limits and defaults, and what each job makes.

This module needs no extra (no FastAPI), so the CLI can show these defaults without it.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

from ..errors import UsageError
from ..options import OUTPUT, PICK, GifOptions, query_form

HOST = "127.0.0.1"  # listen on loopback only, unless told otherwise
PORT = 8000
MAX_UPLOAD_BYTES = 1_000_000_000  # default upload cap, bytes (1 GB)
WORKERS = 1  # default worker processes (videos made at once)
QUEUE = 4  # default jobs waiting beyond the running ones
KEEP_SECONDS = 3600.0  # default lifetime of a finished job's results, seconds
MAX_K = 10  # most GIFs a page user may ask for
MULTIPART_SLACK = 64 * 1024  # bytes of multipart framing allowed on top of the cap
UPLOAD_IDLE_SECONDS = 60.0  # an upload that sends nothing for this long is dropped
# Once older than UPLOAD_IDLE_SECONDS, an upload must average this many bytes per second, so
# clients trickling a byte now and then cannot hold every slot (a 1 GB upload takes 28 h at it).
UPLOAD_MIN_RATE = 10_000
UPLOAD_DEADLINE_SECONDS = 3600.0  # no upload, however paced, holds a slot longer than this
REAP_INTERVAL = 0.5  # seconds between checks for expired jobs
RETRY_AFTER = 10  # seconds a busy answer suggests waiting
ANALYSE_SHARE = 0.85  # share of the progress bar given to analysis; encoding gets the rest
NAME_CHARS = 200  # longest displayed upload name
RESULT_FOLDER = "video"  # a job's results: <job>/out/video/
PAGE = "page.html"
PAGE_GROUPS = (PICK, OUTPUT)  # option groups the page shows at once; the others fold away
# The page's name for an option whose field name does not read well as a label.
LABELS = {"k": "GIFs", "fps": "Frame rate", "max_bytes": "Max size"}


@dataclass(frozen=True)
class ServeConfig:
    """How the server runs."""

    settings: GifOptions = field(default_factory=GifOptions)  # what each job makes (validated)
    workers: int = WORKERS  # worker processes: videos made at once
    queue: int = QUEUE  # jobs waiting beyond the running ones; more are answered "busy"
    max_upload_bytes: int = MAX_UPLOAD_BYTES  # larger uploads are refused (413)
    keep_seconds: float = KEEP_SECONDS  # results (and their files) live this long after a job ends
    work_dir: str | None = None  # where uploads and results go (default: a new temporary folder)
    upload_idle_seconds: float = UPLOAD_IDLE_SECONDS  # a stalled upload is dropped after this
    # bytes/s an upload must average once older than upload_idle_seconds (0: no minimum)
    upload_min_rate: int = UPLOAD_MIN_RATE
    upload_deadline_seconds: float | None = UPLOAD_DEADLINE_SECONDS  # whole upload (None: none)
    # Host names answered besides the loopback ones ("*": any); others are refused, so a
    # rebinding domain that resolves to this machine cannot read it through a browser.
    allow_hosts: tuple[str, ...] = ()
    # Origins whose pages may POST or DELETE ("*": any); the server's own always may.
    allow_origins: tuple[str, ...] = ()
    # Set by validate(): the settings are checked (a model file loaded) once, however many
    # callers ask (the CLI, create_app). Not an init field, so dataclasses.replace() clears it.
    _valid: bool = field(default=False, init=False, repr=False, compare=False)

    def validate(self) -> ServeConfig:
        """Return self, or raise UsageError naming the flag at fault."""
        if self._valid:
            return self
        if self.workers < 1:
            raise UsageError("--workers", "must be at least 1")
        if self.queue < 0:
            raise UsageError("--queue", "cannot be negative")
        if self.max_upload_bytes < 1:
            raise UsageError("--max-upload", "must be positive")
        if self.keep_seconds <= 0:
            raise UsageError("--keep", "must be positive")
        if self.upload_idle_seconds <= 0:
            raise UsageError("--upload-idle", "must be positive")
        if self.upload_min_rate < 0:
            raise UsageError("--upload-min-rate", "cannot be negative")
        if self.upload_deadline_seconds is not None and self.upload_deadline_seconds <= 0:
            raise UsageError("--upload-deadline", "must be positive")
        self.settings.validate()
        object.__setattr__(self, "_valid", True)  # frozen: only validate() sets it
        return self

    def answering(self, *hosts: str) -> ServeConfig:
        """The same config, also answering requests that name ``hosts``; still validated when
        it was (the host names are not checked)."""
        config = dataclasses.replace(self, allow_hosts=(*self.allow_hosts, *hosts))
        object.__setattr__(config, "_valid", self._valid)
        return config

    def worker_settings(self) -> GifOptions:
        """What the workers make each job with: the settings, but without the user's feature
        cache unless a folder was given (``--cache DIR``), so the features of uploaded videos do
        not outlive their jobs there."""
        if self.settings.use_cache and self.settings.cache_dir is None:
            return dataclasses.replace(self.settings, use_cache=False)
        return self.settings


def page_options(settings: GifOptions) -> list[dict]:
    """The per-job options the page offers, built from their metadata (see
    :func:`~video2gif.options.query_form`): each with a ``label``, ``more`` (folded away at
    first) and ``value``, the server's setting, which a job gets when the page does not send it.

    Example:
        >>> [o["label"] for o in page_options(GifOptions()) if not o["more"]][:3]
        ['GIFs', 'Width', 'Frame rate']
    """
    options = []
    for entry in query_form(settings):
        entry["label"] = LABELS.get(entry["field"], entry["field"].replace("_", " ").capitalize())
        entry["more"] = entry["group"] not in PAGE_GROUPS
        if entry["field"] == "k":  # the server's own cap, on top of the field's range
            entry["high"] = MAX_K
        options.append(entry)
    return options
