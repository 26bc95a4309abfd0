"""video2gif: turn any video into its best animated GIFs, automatically."""

from ._version import __version__ as __version__
from .analysis import Analysis as Analysis
from .analysis import analyse as analyse
from .crop import CropPath as CropPath
from .crop import plan_crop as plan_crop
from .decode import VideoInfo as VideoInfo
from .decode import decode_pass as decode_pass
from .decode import probe as probe
from .errors import Video2GifError as Video2GifError
from .options import GifOptions as GifOptions
from .pipeline import Highlights as Highlights
from .pipeline import MadeGifs as MadeGifs
from .pipeline import ScoredSegment as ScoredSegment
from .pipeline import find_highlights as find_highlights
from .pipeline import make_gifs as make_gifs
from .scorers import Scorer as Scorer
from .scorers import load_model as load_model
from .segments import Segment as Segment
from .segments import SegmentOptions as SegmentOptions
from .shots import Shot as Shot
from .shots import detect_shots as detect_shots
