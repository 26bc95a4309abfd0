"""Receiving uploads: the raw or multipart request body streamed to a file under a size cap,
given up when the client stalls; and the uploaded name, made fit for display."""

from __future__ import annotations

import asyncio
import unicodedata
from collections.abc import AsyncIterator
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


async def _chunks(request: Request, idle: float) -> AsyncIterator[bytes]:
    """The request body, chunk by chunk; gives up when the client sends nothing for ``idle``
    seconds (so a stalled upload cannot hold a queue slot forever)."""
    stream = request.stream().__aiter__()
    while True:
        try:
            chunk = await asyncio.wait_for(stream.__anext__(), idle)
        except StopAsyncIteration:
            return
        except asyncio.TimeoutError:
            raise _Stalled(f"nothing received for {idle:g} s") from None
        if chunk:
            yield chunk


async def _receive_raw(request: Request, path: Path, cap: int, idle: float) -> int:
    size = 0
    # Plain blocking writes: each chunk is at most 64 KiB into the page cache.
    with open(path, "wb") as f:
        async for chunk in _chunks(request, idle):
            size += len(chunk)
            if size > cap:
                raise _TooLarge
            f.write(chunk)
    return size


async def _receive_multipart(request: Request, path: Path, cap: int,
                             idle: float) -> tuple[int, str | None]:
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
        async for chunk in _chunks(request, idle):
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

