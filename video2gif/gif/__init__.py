"""video2gif's own GIF encoder: perceptual palettes, still dithering, transparency, lossy LZW.

One module per technique:

- :mod:`.colour`: sRGB ↔ Oklab, the space every distance and palette is measured in;
- :mod:`.quantize`: weighted median cut + k-means palettes, and the nearest-colour search;
- :mod:`.dither`: error diffusion / ordered dithering that leaves unchanged pixels transparent;
- :mod:`.lzw`: the GIF LZW coder, exact or lossy (runs matched within a colour tolerance);
- :mod:`.writer`: GIF89a syntax (screen, loop extension, frames, local palettes);
- :mod:`.encoder`: the frame loop that ties them together, driven by one ``quality`` knob.
"""

from ._threads import busy
from .encoder import GifEncoding, Settings, encode_gif, settings_for, warm_up

__all__ = ["GifEncoding", "Settings", "busy", "encode_gif", "settings_for", "warm_up"]
