"""video2gif: turn any video into its best animated GIFs, automatically."""

from .decode import VideoInfo as VideoInfo
from .decode import decode_pass as decode_pass
from .decode import probe as probe
from .errors import Video2GifError as Video2GifError
from .rank import Scorer as Scorer
from .rank import load_model as load_model
from .segments import Segment as Segment
from .shots import Shot as Shot
from .shots import detect_shots as detect_shots

__version__ = "0.1.0"
