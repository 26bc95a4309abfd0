"""Running a batch: plan what is left to do, make it on local workers or Ray, record each video.

Example:
    >>> summary = run_batch("videos/", "out/", GifOptions(k=3), workers=2)  # doctest: +SKIP
    >>> summary.done, summary.failed, summary.skipped  # doctest: +SKIP
    (12, 1, 0)
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import signal
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from ..errors import OutputError, UsageError, Video2GifError
from ..options import GifOptions
from .inputs import BatchInput, find_inputs
from .manifest import (
    DONE,
    FAILED,
    MANIFEST_NAME,
    Manifest,
    content_hash,
    is_done,
    remove_leftovers,
)
from .pool import Finished, VideoTask, WorkerPool, _record
from .ray import _run_ray

ENGINES = ("local", "ray")


@dataclass(frozen=True)
class BatchSummary:
    """How a batch went."""

    done: int  # videos made in this run
    failed: int  # videos that failed in this run
    skipped: int  # videos already done with the same content and settings
    seconds: float  # wall time of this run
    manifest: Path
    records: list[dict]  # this run's manifest records, in the order they finished


# on_record(record, done, failed, remaining); on_plan(to_do, skipped)
RecordCallback = Callable[[dict, int, int, int], None]
PlanCallback = Callable[[int, int], None]


def run_batch(
    inputs: Sequence[BatchInput] | str | os.PathLike,
    outdir: str | os.PathLike,
    settings: GifOptions | None = None,
    workers: int | None = None,
    engine: str = "local",
    address: str | None = None,
    manifest: str | os.PathLike | None = None,
    on_plan: PlanCallback | None = None,
    on_record: RecordCallback | None = None,
) -> BatchSummary:
    """Make the GIFs of many videos, skipping those already done, recording each as it ends.

    Arguments:
        inputs: :class:`BatchInput` list, or a folder / list file for :func:`find_inputs`.
        outdir: OUTDIR; each video's results go to ``OUTDIR/<name>/``.
        settings: what to make (default :class:`~video2gif.options.GifOptions`).
        workers: parallel videos (local: processes, default the CPU count; ray: actors, default
            the cluster's CPUs).
        engine: "local" (a process pool) or "ray".
        address: with "ray": the cluster to join (e.g. "auto", "ray://head:10001"); default
            ``$RAY_ADDRESS`` if set, else a Ray started for this batch. Ignored when Ray is
            already initialised in this process.
        manifest: the manifest file (default ``OUTDIR/manifest.jsonl``).
        on_plan: called once with (videos to make, videos skipped).
        on_record: called after each video's record is written, with the record and the counts
            so far (done, failed, remaining).

    Returns:
        BatchSummary of this run.

    Workers are fresh interpreters (multiprocessing's "spawn"), which import the calling script's
    main module: in a script, call this under ``if __name__ == "__main__":``.

    Raises:
        UsageError: bad inputs, options, or another batch is writing the same manifest.
        OutputError: OUTDIR or the manifest's lock file cannot be created.
        ModelError: the model cannot be loaded. Nothing about a single video raises.
        KeyboardInterrupt: interrupted; everything finished so far is in the manifest.
    """
    if engine not in ENGINES:
        raise UsageError("--engine", f"{engine!r} is not one of {', '.join(ENGINES)}")
    if address is not None and engine != "ray":
        raise UsageError("--address", "only applies with --engine ray")
    if workers is not None and workers < 1:
        raise UsageError("--workers", "must be at least 1")
    settings = (settings or GifOptions()).validate()
    if not isinstance(inputs, Sequence) or isinstance(inputs, str):
        inputs = find_inputs(inputs)
    out = Path(outdir).resolve()
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise OutputError(outdir, f"cannot create the output folder ({e.strerror or e})"
                          ) from None
    book = Manifest(manifest if manifest is not None else out / MANIFEST_NAME)
    started = time.perf_counter()
    with book.locked(), _sigterm_as_interrupt():
        book.repair()  # torn lines of a killed run go before this run's records follow them
        remove_leftovers({(out / i.name).parent for i in inputs})
        digest = settings.digest()
        latest = book.latest()
        tasks: list[VideoTask] = []
        unreadable: list[dict] = []
        skipped = 0
        for n, item in enumerate(inputs):
            task = VideoTask(id=str(n), input=str(item.path), outdir=str(out), name=item.name,
                             settings=digest)
            try:
                content = content_hash(item.path)
            except Video2GifError as e:
                unreadable.append(_record(task, FAILED, f"{type(e).__name__}: {e}"))
                continue
            if is_done(latest.get(task.input), content, digest, out):
                skipped += 1
                continue
            tasks.append(dataclasses.replace(task, content=content))
        if on_plan:
            on_plan(len(tasks) + len(unreadable), skipped)
        records: list[dict] = []
        counts = {DONE: 0, FAILED: 0}
        remaining = [len(tasks) + len(unreadable)]

        def finish(record: dict) -> None:
            book.append(record)
            records.append(record)
            counts[record["status"]] += 1
            remaining[0] -= 1
            if on_record:
                on_record(record, counts[DONE], counts[FAILED], remaining[0])

        for record in unreadable:
            finish(record)
        if tasks:
            if engine == "local":
                _run_local(tasks, settings, workers or os.cpu_count() or 1, finish)
            else:
                _run_ray(tasks, settings, workers, address, finish)
    return BatchSummary(done=counts[DONE], failed=counts[FAILED], skipped=skipped,
                        seconds=time.perf_counter() - started, manifest=book.path,
                        records=records)


@contextlib.contextmanager
def _sigterm_as_interrupt() -> Iterator[None]:
    """A plain ``kill`` stops the batch the way Ctrl-C does (workers clean up, records stay)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum, frame):
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def _run_local(tasks: list[VideoTask], settings: GifOptions, workers: int,
               finish: Callable[[dict], None]) -> None:
    pool = WorkerPool(settings, min(workers, len(tasks)))
    pool.start()
    interrupted = True
    try:
        for task in tasks:
            pool.submit(task)
        left = len(tasks)
        while left:
            for event in pool.events(timeout=1.0):
                if isinstance(event, Finished):
                    finish(event.record)
                    left -= 1
        interrupted = False
    finally:
        pool.close(kill=interrupted)
