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
    """``items``, produced on a thread of their own up to ``pending`` ahead of the consumer (the
    frames' colours while the encoder works on an earlier frame). An error of ``items`` is
    raised here; closing this stops the producer after the item it is on."""
    done = object()
    ready: queue.Queue = queue.Queue(maxsize=pending)
    stop = threading.Event()

    def produce() -> None:
        try:
            for item in items:
                if stop.is_set():
                    return
                ready.put((item, None))
            ready.put((done, None))
        except BaseException as e:  # noqa: BLE001 - raised again in the consumer
            ready.put((done, e))
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
        while thread.is_alive():  # unblock a producer waiting to put
            try:
                ready.get(timeout=0.01)
            except queue.Empty:
                pass
