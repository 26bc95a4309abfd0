"""The Ray engine of ``video2gif batch --engine ray``: one actor per worker, models loaded once
per actor (needs the ``ray`` extra)."""

from __future__ import annotations

import contextlib
import os
from collections import deque
from collections.abc import Callable

from ..errors import UsageError, Video2GifError
from ..options import GifOptions
from .manifest import FAILED
from .pool import Maker, VideoTask, _error_tuple, _limit_threads, _rebuild_error, _record


class RayWorker:
    """The per-video work as a Ray actor: the models are loaded once per actor."""

    def __init__(self, settings: GifOptions, threads: int = 1) -> None:
        self.error: tuple[str, str, str] | None = None
        _limit_threads(threads)
        try:
            self.maker: Maker | None = Maker(settings)
        except Video2GifError as e:
            self.maker = None
            self.error = _error_tuple(e)

    def ready(self) -> tuple[str, str, str] | None:
        """None when the models loaded, else the error (type name, target, reason)."""
        return self.error

    def run(self, task: VideoTask) -> dict:
        assert self.maker is not None
        return self.maker.run(task)


def _import_ray():
    try:
        import ray
    except ImportError:
        raise UsageError("--engine", "Ray is not installed; pip install 'video2gif[ray]'") from None
    return ray


def _run_ray(tasks: list[VideoTask], settings: GifOptions, workers: int | None,
             address: str | None, finish: Callable[[dict], None]) -> None:
    ray = _import_ray()
    from ray.exceptions import RayActorError, RayError

    own = not ray.is_initialized()
    if own:
        address = address or os.environ.get("RAY_ADDRESS") or None
        options = {"include_dashboard": False, "log_to_driver": False}
        if address is None:  # a Ray of our own on this machine
            options["num_cpus"] = workers or os.cpu_count() or 1
        try:
            ray.init(address=address, **options)
        except (ConnectionError, RuntimeError, ValueError) as e:
            raise UsageError("--address", f"cannot join the Ray cluster at {address} ({e})"
                             ) from None
    actor_class = ray.remote(num_cpus=1)(RayWorker)
    actors: list = []
    try:
        size = workers or max(1, int(ray.cluster_resources().get("CPU", 1)))
        size = min(size, len(tasks))
        actors = [actor_class.remote(settings) for _ in range(size)]
        try:
            errors = ray.get([a.ready.remote() for a in actors])
        except RayError as e:  # e.g. video2gif is not installed where the actors run
            raise Video2GifError("--engine ray", f"the Ray workers could not start "
                                                 f"({_one_line(e)})") from None
        for error in errors:
            if error is not None:
                raise _rebuild_error(error)
        pending = deque(tasks)
        free = list(actors)
        running: dict = {}  # object ref -> (actor, task)
        while pending or running:
            while pending and free:
                actor, task = free.pop(), pending.popleft()
                running[actor.run.remote(task)] = (actor, task)
            ready, _ = ray.wait(list(running), num_returns=1, timeout=1.0)
            for ref in ready:
                actor, task = running.pop(ref)
                try:
                    record = ray.get(ref)
                except RayActorError as e:  # the actor's process died with this video
                    record = _record(task, FAILED, f"WorkerDied: the Ray worker making this "
                                                   f"video died ({_one_line(e)})")
                    actors.remove(actor)
                    actor = actor_class.remote(settings)
                    actors.append(actor)
                except RayError as e:
                    record = _record(task, FAILED, f"{type(e).__name__}: {_one_line(e)}")
                free.append(actor)
                finish(record)
    finally:
        for a in actors:
            with contextlib.suppress(Exception):
                ray.kill(a)
        if own:
            ray.shutdown()


def _one_line(e: BaseException) -> str:
    text = " ".join(str(e).split())
    return text[:300]
