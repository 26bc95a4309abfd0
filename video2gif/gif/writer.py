"""GIF89a syntax: logical screen, the NETSCAPE2.0 loop extension, and frames with their graphic
control extension (delay, transparency, disposal) and local colour table."""

from __future__ import annotations

import struct

import numpy as np

DISPOSE_KEEP = 1  # leave the frame on screen; the next frame draws over it


def table_bits(n_colours: int) -> int:
    """Size field of a colour table holding ``n_colours``: the table has 2**(bits+1) entries."""
    return max(0, (max(2, n_colours) - 1).bit_length() - 1)


def colour_table(rgb: np.ndarray) -> bytes:
    """The palette padded with black to the power-of-two length GIF requires."""
    n = 2 ** (table_bits(len(rgb)) + 1)
    table = np.zeros((n, 3), np.uint8)
    table[: len(rgb)] = rgb
    return table.tobytes()


def header(width: int, height: int, loop: int = 0) -> bytes:
    """Signature, logical screen (no global table) and the loop extension (0 = forever)."""
    screen = struct.pack("<HHBBB", width, height, 0x70, 0, 0)  # colour resolution 8 bits
    netscape = b"\x21\xff\x0bNETSCAPE2.0\x03\x01" + struct.pack("<H", loop) + b"\x00"
    return b"GIF89a" + screen + netscape


def frame(box: tuple[int, int, int, int], palette: np.ndarray, image_data: bytes,
          delay_cs: int, transparent: int | None) -> bytes:
    """One frame: control extension, image descriptor, local colour table, LZW data.

    ``box`` is (left, top, width, height) on the screen; ``delay_cs`` is in centiseconds."""
    flags = (DISPOSE_KEEP << 2) | (1 if transparent is not None else 0)
    control = b"\x21\xf9\x04" + struct.pack("<BHB", flags, delay_cs, transparent or 0) + b"\x00"
    descriptor = b"\x2c" + struct.pack("<HHHHB", *box, 0x80 | table_bits(len(palette)))
    return control + descriptor + colour_table(palette) + image_data


TRAILER = b"\x3b"

