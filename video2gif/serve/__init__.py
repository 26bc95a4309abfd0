"""``video2gif serve``: a local web page over the pipeline (needs the ``serve`` extra).

Example:
    >>> from video2gif.serve import BackgroundServer, ServeConfig  # doctest: +SKIP
    >>> with BackgroundServer(ServeConfig(workers=1)) as server:  # doctest: +SKIP
    ...     print("open", server.url)
"""

from .app import BackgroundServer as BackgroundServer
from .app import ServeConfig as ServeConfig
from .app import create_app as create_app
from .app import display_name as display_name
from .app import is_loopback as is_loopback
from .app import run_server as run_server
