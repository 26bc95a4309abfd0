"""One writer module per output format family; :data:`video2gif.formats.OUTPUT_FORMATS` names
each format's writer as ``"module:function"``.

A writer is ``write(frames, holds, fps, path, width, **palette) -> (width, height, bytes,
ticks of each stored frame)``: rgb24 frames, each shown for ``holds[i]`` ticks of ``1/fps`` s,
written to ``path`` (not atomically: :mod:`video2gif.encode` renames it into place) at ``width``
pixels (even) with an even height. Formats whose entry says ``palette=True`` also get
``colours``, ``dither`` and ``quality``.
"""
