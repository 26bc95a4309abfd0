"""A helper thread for the encoder's kernels when a core would otherwise sit idle.

``make`` encodes two GIFs at once on two cores, so helpers would only add switching there; one
GIF alone (the API, the last pick of ``make``, the benchmarks) leaves a core free. The compiled
kernels release the GIL, so a kernel on the helper runs beside one on the caller's thread."""

from __future__ import annotations

import os
import queue
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager

CORES = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1

STOP_POLL = 0.02  # s; how often a producer waiting to hand an item over checks it was stopped
_LOCK = threading.Lock()
_POOL: ThreadPoolExecutor | None = None
_running = 0  # threads busy with a GIF
_counted = threading.local()


@contextmanager
def busy() -> Iterator[None]:
    """Counts the calling thread as busy with a GIF for the block (reading its frames or
    encoding them; nested blocks count once)."""
    global _running
    if getattr(_counted, "yes", False):
        yield
        return
    _counted.yes = True
    with _LOCK:
        _running += 1
    try:
        yield
    finally:
        with _LOCK:
            _running -= 1
        _counted.yes = False


def spare() -> ThreadPoolExecutor | None:
    """The helper threads if fewer threads are busy with a GIF than there are cores, else None."""
    global _POOL
    with _LOCK:
        if _running >= CORES:
            return None
        if _POOL is None:  # started on first use
            _POOL = ThreadPoolExecutor(max(1, CORES - 1), thread_name_prefix="gif-helper")
        return _POOL


def ahead(items: Iterator, pending: int) -> Iterator:
    """``items``, produced on a thread of their own up to ``pending`` (at least 1) ahead of the
    consumer (the frames' colours while the encoder works on an earlier frame), so at most
    ``pending + 2`` are held at once: the consumer's, those waiting, and the one being made. An
    error of ``items`` is raised here. Closing this stops the producer before its next item; it
    is waited for while it finishes the one it is on."""
    if pending < 1:
        raise ValueError("pending must be at least 1")
    done = object()
    ready: queue.Queue = queue.Queue(maxsize=pending)
    stop = threading.Event()

    def offer(entry: tuple) -> bool:
        while not stop.is_set():
            try:
                ready.put(entry, timeout=STOP_POLL)
                return True
            except queue.Full:
                pass
        return False

    def produce() -> None:
        try:
            while not stop.is_set():
                item = next(items, done)
                if not offer((item, None)) or item is done:
                    return
        except BaseException as e:  # noqa: BLE001 - raised again in the consumer
            offer((done, e))
        finally:
            getattr(items, "close", lambda: None)()

    thread = threading.Thread(target=produce, name="gif-frames", daemon=True)
    thread.start()
    try:
        while True:
            item, error = ready.get()
            if error is not None:
                raise error
            if item is done:
                return
            yield item
    finally:
        stop.set()
        thread.join()
