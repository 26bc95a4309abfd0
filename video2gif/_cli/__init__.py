"""The commands behind :mod:`video2gif.cli`, one module per family (PySceneDetect's ``_cli``).

- :mod:`.common`: the one-line error contract, JSON and progress helpers;
- :mod:`.make`: ``make``, ``segments``, ``shots`` (the pipeline);
- :mod:`.scale`: ``batch`` and ``serve`` (many videos, the web page).

Their options come from :class:`video2gif.options.GifOptions`
(:func:`~video2gif.options.click_options`).
"""
