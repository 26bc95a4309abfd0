"""Receiving uploads: the raw or multipart request body streamed to a file under a size cap,
given up when the client stalls, trickles or takes too long (:class:`Pace`); and the uploaded
name, made fit for display."""

from __future__ import annotations

import asyncio
import time
import unicodedata
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

from fastapi import Request

from ..formats import is_video_file
from .config import NAME_CHARS


def display_name(raw: str | None) -> str:
    """An upload's name fit for display: the last path component, printable, bounded.

    Example:
        >>> display_name("../../etc/passwd\\x00.mp4")
        'passwd.mp4'
    """
    name = (raw or "").replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(c for c in name if unicodedata.category(c)[0] != "C")
    return name.strip()[:NAME_CHARS] or "video"


def _upload_suffix(name: str) -> str:
    """The stored upload's extension: the name's, when it is a known video extension (some
    containers are recognised by it), else none. Nothing else of the name is used."""
    suffix = Path(name).suffix.lower()
    return suffix if is_video_file(name) else ""


class _TooLarge(Exception):
    pass


class _BadUpload(Exception):
    status = 400


class _Stalled(_BadUpload):
    status = 408


@dataclass(frozen=True)
class Pace:
    """How slowly an upload may arrive before it is dropped (408), so that neither a stalled
    client nor one trickling a byte now and then can hold a queue slot for long."""

    idle: float  # seconds the client may send nothing
    min_rate: int = 0  # bytes/s it must average once the upload is older than ``idle`` (0: any)
    deadline: float | None = None  # seconds for the whole upload (None: no limit)

    def wait(self, elapsed: float, received: int) -> float:
        """Seconds to wait for the next chunk, after ``received`` bytes in ``elapsed`` s."""
        wait = self.idle
        if self.deadline is not None:
            wait = min(wait, self.deadline - elapsed)
        if self.min_rate:  # the average falls below min_rate at max(idle, received / min_rate)
            wait = min(wait, max(self.idle, received / self.min_rate) - elapsed)
        return max(wait, 0.0)

    def why(self, elapsed: float, received: int) -> str:
        """Why an upload that waited :meth:`wait` in vain is dropped."""
        if self.deadline is not None and elapsed >= self.deadline:
            return f"the upload did not finish in {self.deadline:g} s"
        if self.min_rate and elapsed >= self.idle and received < self.min_rate * elapsed:
            return (f"{received} bytes in {elapsed:.0f} s is below the minimum rate of "
                    f"{self.min_rate} bytes/s")
        return f"nothing received for {self.idle:g} s"


async def _chunks(request: Request, pace: Pace) -> AsyncIterator[bytes]:
    """The request body, chunk by chunk; gives up (:class:`_Stalled`) when the client is slower
    than ``pace`` allows."""
    stream = request.stream().__aiter__()
    start = time.monotonic()
    received = 0
    declared = request.headers.get("content-length", "")
    expected = int(declared) if declared.isdigit() else None
    while True:
        try:
            # All announced bytes are in: only the end of the body is left to read.
            done = expected is not None and received >= expected
            wait = pace.idle if done else pace.wait(time.monotonic() - start, received)
            chunk = await asyncio.wait_for(stream.__anext__(), wait)
        except StopAsyncIteration:
            return
        except asyncio.TimeoutError:
            raise _Stalled(pace.why(time.monotonic() - start, received)) from None
        if chunk:
            received += len(chunk)
            yield chunk


async def _receive_raw(request: Request, path: Path, cap: int, pace: Pace) -> int:
    size = 0
    # Plain blocking writes: each chunk is at most 64 KiB into the page cache.
    with open(path, "wb") as f:
        async for chunk in _chunks(request, pace):
            size += len(chunk)
            if size > cap:
                raise _TooLarge
            f.write(chunk)
    return size


async def _receive_multipart(request: Request, path: Path, cap: int,
                             pace: Pace) -> tuple[int, str | None]:
    """Stream the first file field of a multipart body into ``path``."""
    from python_multipart.multipart import MultipartParser, parse_options_header

    _, params = parse_options_header(request.headers.get("content-type", ""))
    boundary = params.get(b"boundary")
    if not boundary:
        raise _BadUpload("multipart body without a boundary")
    state = {"size": 0, "in_file": False, "done": False, "name": None, "header": b"",
             "headers": {}}
    out = open(path, "wb")

    def on_part_begin() -> None:
        state["headers"] = {}

    def on_header_field(data: bytes, start: int, end: int) -> None:
        state["header"] += data[start:end]

    def on_header_value(data: bytes, start: int, end: int) -> None:
        key = state["header"].lower()
        state["headers"][key] = state["headers"].get(key, b"") + data[start:end]

    def on_header_end() -> None:
        state["header"] = b""

    def on_headers_finished() -> None:
        disposition = state["headers"].get(b"content-disposition", b"")
        _, opts = parse_options_header(disposition)
        if not state["done"] and b"filename" in opts:
            state["in_file"] = True
            state["name"] = opts[b"filename"].decode("utf-8", "replace")

    def on_part_data(data: bytes, start: int, end: int) -> None:
        if state["in_file"]:
            state["size"] += end - start
            if state["size"] > cap:
                raise _TooLarge
            out.write(data[start:end])

    def on_part_end() -> None:
        if state["in_file"]:
            state["in_file"], state["done"] = False, True

    parser = MultipartParser(boundary, {
        "on_part_begin": on_part_begin, "on_header_field": on_header_field,
        "on_header_value": on_header_value, "on_header_end": on_header_end,
        "on_headers_finished": on_headers_finished, "on_part_data": on_part_data,
        "on_part_end": on_part_end,
    })
    try:
        async for chunk in _chunks(request, pace):
            try:
                parser.write(chunk)
            except _TooLarge:
                raise
            except Exception as e:  # the parser's own errors: a malformed body
                raise _BadUpload(f"malformed multipart body ({e})") from None
    finally:
        out.close()
    if not state["done"]:
        raise _BadUpload("the multipart body has no complete file field")
    return state["size"], state["name"]

