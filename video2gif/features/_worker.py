"""A consumer's heavy work on a thread of its own, beside the decoder and the other consumers.

PyTorch and OpenCV release the GIL while they compute, so a backbone batch or a face search
overlaps decoding instead of stalling the pass. The queue is bounded (memory stays flat) and the
first error is raised again in the caller's thread.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable


class Worker:
    """Runs ``work(item)`` for every submitted item, in order, on one background thread.

    Example:
        >>> out = []
        >>> w = Worker(out.append, pending=2, name="demo")
        >>> for i in range(3):
        ...     w.submit(i)
        >>> w.close()
        >>> out
        [0, 1, 2]
    """

    def __init__(self, work: Callable[[object], None], pending: int, name: str) -> None:
        self._work = work
        self._queue: queue.Queue = queue.Queue(maxsize=pending)
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while (item := self._queue.get()) is not None:
            if self._error is None:  # after an error keep draining, so submit never blocks
                try:
                    self._work(item)
                except BaseException as e:  # noqa: BLE001 - raised again by submit/close
                    self._error = e

    def submit(self, item: object) -> None:
        """Queue ``item`` (blocks while ``pending`` items wait); raises an earlier error."""
        if self._error is not None:
            raise self._error
        self._queue.put(item)

    def discard(self) -> None:
        """Finish and drop a worker left by a pass that failed half-way; its error is moot."""
        try:
            self.close()
        except Exception:  # noqa: BLE001 - that pass already failed
            pass

    def close(self) -> None:
        """Wait for every queued item; raises the first error the work raised."""
        if self._thread.is_alive():
            self._queue.put(None)
            self._thread.join()
        if self._error is not None:
            error, self._error = self._error, None
            raise error
