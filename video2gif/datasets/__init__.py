"""GIF annotations of videos: one generic format, readers for the public benchmarks, and labels.

- :mod:`~video2gif.datasets.types`: :class:`GifInterval`, :class:`VideoAnnotation`, and
  :class:`AnnotationReader`, what a reader of one format is;
- :mod:`~video2gif.datasets.readers`: the registry :data:`READERS`, :func:`detect_format` and
  :func:`load_annotations` (any format, as a benchmark evaluates it);
- one module per format: :mod:`~video2gif.datasets.jsonl` (the generic JSON lines),
  :mod:`~video2gif.datasets.phd_gifs` (PHD-GIFs CSV), :mod:`~video2gif.datasets.video2gif_metadata`
  (Video2GIF ``metadata.txt``);
- :mod:`~video2gif.datasets.pairs`: annotations built by aligning GIF/video pairs;
- :mod:`~video2gif.datasets.labels`: training labels of candidate segments;
- :mod:`~video2gif.datasets.locate`: where an annotated video's file is.

Readers never crash on a bad row and never drop one silently: by default each malformed row is
skipped with a :class:`~video2gif.errors.DatasetWarning` naming ``file:line`` and the reason;
with ``strict=True`` the first one raises :class:`~video2gif.errors.DatasetError` instead.

Example:
    >>> import numpy as np
    >>> gifs = (GifInterval(2.0, 5.0),)
    >>> video = VideoAnnotation(id="abc", duration=20.0, fps=25.0, gifs=gifs)
    >>> label_segments(np.array([[2.0, 4.0], [10.0, 13.0], [4.0, 7.0]]), video.gifs).tolist()
    [1, 0, -1]
"""

from .jsonl import annotation_from_dict as annotation_from_dict
from .jsonl import read_annotations as read_annotations
from .jsonl import write_annotations as write_annotations
from .labels import POSITIVE_COVERAGE as POSITIVE_COVERAGE
from .labels import label_segments as label_segments
from .locate import locate_video as locate_video
from .pairs import PAIR_FIELDS as PAIR_FIELDS
from .pairs import BuildResult as BuildResult
from .pairs import GifPair as GifPair
from .pairs import Rejected as Rejected
from .pairs import build_annotations as build_annotations
from .pairs import read_pairs as read_pairs
from .phd_gifs import PHD_GIFS_FIELDS as PHD_GIFS_FIELDS
from .phd_gifs import PhdGifsRow as PhdGifsRow
from .phd_gifs import phd_gifs_annotations as phd_gifs_annotations
from .phd_gifs import read_phd_gifs as read_phd_gifs
from .readers import READERS as READERS
from .readers import detect_format as detect_format
from .readers import load_annotations as load_annotations
from .types import AnnotationReader as AnnotationReader
from .types import GifInterval as GifInterval
from .types import VideoAnnotation as VideoAnnotation
from .video2gif_metadata import VIDEO2GIF_FIELDS as VIDEO2GIF_FIELDS
from .video2gif_metadata import VIDEO2GIF_SEPARATOR as VIDEO2GIF_SEPARATOR
from .video2gif_metadata import read_id_list as read_id_list
from .video2gif_metadata import read_video2gif_metadata as read_video2gif_metadata
