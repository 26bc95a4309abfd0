"""``video2gif serve``: a local web page over the pipeline (needs the ``serve`` extra).

The parts: :mod:`.config` (limits and defaults; needs no extra), :mod:`.jobs` (the job board
over the worker pool), :mod:`.upload` (streaming uploads) and :mod:`.app` (the routes and the
server).

Example:
    >>> from video2gif.serve import BackgroundServer, ServeConfig  # doctest: +SKIP
    >>> with BackgroundServer(ServeConfig(workers=1)) as server:  # doctest: +SKIP
    ...     print("open", server.url)
"""

from .config import ServeConfig as ServeConfig

_APP_NAMES = ("BackgroundServer", "create_app", "display_name", "is_loopback", "run_server")


def __getattr__(name: str):
    """The app's names load on first use: they need FastAPI (the serve extra), the config
    does not."""
    if name in _APP_NAMES:
        from . import app, upload

        return getattr(upload if name == "display_name" else app, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = ["ServeConfig", *_APP_NAMES]
