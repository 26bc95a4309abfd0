"""The bounded-queue worker thread of the decode pass, for consumers whose heavy work (a backbone
batch, a face search) runs on a thread of its own; defined once, in :mod:`video2gif.decode`."""

from __future__ import annotations

from ..decode import Worker

__all__ = ["Worker"]
