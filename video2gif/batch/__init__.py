"""Many videos, resumable: a pool of worker processes on one machine, or Ray on a cluster.

Every finished video appends one JSON line to a manifest (``OUTDIR/manifest.jsonl``): its input,
content hash, settings hash, status, outputs, error and seconds. Each line is written with one
``write`` and made durable with ``fsync`` before the next video is reported, and every video's
folder appears complete or not at all (:func:`~video2gif.pipeline.make_gifs` builds it under a
temporary name), so an interrupted run (Ctrl-C, ``kill -9``, a lost machine) loses nothing that was
finished. Running the same batch again skips the videos already done with the same content and
settings and retries the ones that failed. One bad video never stops the others: its error is
recorded and the batch goes on; even a worker that dies (a crash in a codec, the kernel's OOM
killer) only fails the video it was working on.

The parts: :mod:`.inputs` (which videos, and their result folder names), :mod:`.manifest` (the
record and the clean-up of interrupted runs), :mod:`.pool` (worker processes, shared with the web
app), :mod:`.ray` (the Ray engine) and :mod:`.run` (:func:`run_batch`). What each video is made
with is a :class:`~video2gif.options.GifOptions`, the options of ``video2gif make``.

Example:
    >>> from video2gif.batch import find_inputs, run_batch
    >>> from video2gif.options import GifOptions
    >>> inputs = find_inputs("videos/")  # doctest: +SKIP
    >>> summary = run_batch(inputs, "out/", GifOptions(k=3), workers=2)  # doctest: +SKIP
    >>> summary.done, summary.failed, summary.skipped  # doctest: +SKIP
    (12, 1, 0)
"""

from ..formats import VIDEO_EXTENSIONS as VIDEO_EXTENSIONS
from .inputs import BatchInput as BatchInput
from .inputs import find_inputs as find_inputs
from .inputs import result_names as result_names
from .manifest import DONE as DONE
from .manifest import FAILED as FAILED
from .manifest import MANIFEST_NAME as MANIFEST_NAME
from .manifest import Manifest as Manifest
from .manifest import content_hash as content_hash
from .manifest import is_done as is_done
from .manifest import remove_leftovers as remove_leftovers
from .pool import Finished as Finished
from .pool import Maker as Maker
from .pool import Progress as Progress
from .pool import Started as Started
from .pool import VideoTask as VideoTask
from .pool import WorkerPool as WorkerPool
from .ray import RayWorker as RayWorker
from .run import ENGINES as ENGINES
from .run import BatchSummary as BatchSummary
from .run import run_batch as run_batch

__all__ = [
    "DONE", "ENGINES", "FAILED", "MANIFEST_NAME", "VIDEO_EXTENSIONS", "BatchInput",
    "BatchSummary", "Finished", "Maker", "Manifest", "Progress", "RayWorker", "Started",
    "VideoTask", "WorkerPool", "content_hash", "find_inputs", "is_done", "remove_leftovers",
    "result_names", "run_batch",
]
