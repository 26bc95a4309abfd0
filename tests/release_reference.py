"""An independent re-implementation of the 2016 Video2GIF release's scoring, line by line.

It follows ``get_scores``, ``get_snips`` and ``rgb2caffe`` of the published ``video2gif``
package (Python 2, Theano, Lasagne) and shares no code with this project's package: frames come
straight from PyAV (every decoded frame in order, as moviepy's ``iter_frames``), the resize is
scikit-image's own ``resize`` with its 2016 behaviour (bilinear, no anti-aliasing, constant
mode), and the network is a plain functional forward pass over the Lasagne parameter list
(cross-correlation, as the release's cuDNN layers). scikit-image is a test-only dependency.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Iterable, Sequence

import av
import numpy as np

Predict = Callable[[np.ndarray], np.ndarray]  # (2, 3, 16, 112, 112) snips -> (2, 1) scores


def iter_frames(path) -> Iterable[np.ndarray]:
    """Every decoded frame as RGB, in presentation order (moviepy's iter_frames)."""
    with av.open(str(path)) as container:
        for frame in container.decode(video=0):
            yield frame.to_ndarray(format="rgb24")


def tutorial_segments(path) -> list[tuple[int, int]]:
    """The tutorial's uniform 5-s segments from the stream's frame rate and duration."""
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        fps = float(stream.average_rate)
        if stream.duration is not None:
            duration = float(stream.duration * stream.time_base)
        else:  # WebM: only the container knows (moviepy read the container's Duration too)
            duration = container.duration / av.time_base
    return [(start, int(start + fps * 5))
            for start in range(0, int(duration * fps), int(fps * 5))]


def rgb2caffe(im: np.ndarray, out_size=(128, 171)) -> np.ndarray:
    import skimage.transform  # test-only dependency

    im = np.copy(im)
    if len(im.shape) == 2:
        im = np.dstack([im] * 3)
    # skimage 0.12 (2016): order=1, mode='constant', cval=0 and no anti-aliasing were the
    # defaults; today's defaults differ, so they are spelled out.
    im = skimage.transform.resize(im, out_size, order=1, mode="constant", cval=0,
                                  anti_aliasing=False, preserve_range=True)
    im = np.swapaxes(np.swapaxes(im, 1, 2), 0, 1)
    im = im[::-1, :, :]  # BGR
    return np.array(im, np.float32)


def get_snips(images, image_mean, start=0, with_mirrored=False) -> np.ndarray:
    assert len(images) >= start + 16, "Not enough frames to fill a snipplet of 16 frames"
    caffe_imgs = [rgb2caffe(x).reshape(1, 3, 128, 171) for x in images[start:start + 16]]
    snip = np.vstack(caffe_imgs).swapaxes(0, 1)
    snip -= image_mean
    snip = snip[:, :, 8:120, 29:141]
    snip = snip.reshape(1, 3, 16, 112, 112)
    if with_mirrored:
        return np.vstack((snip, snip[:, :, :, :, ::-1]))
    return snip


def get_scores(predict: Predict, segments: Sequence[tuple[int, int]], frames: Iterable,
               image_mean: np.ndarray, stride: int = 8) -> OrderedDict:
    """The release's get_scores without its thread: segment tuple -> mean window score."""
    segment2score: OrderedDict = OrderedDict()
    frame_list: list = []
    seg_nr = 0
    for frame_idx, f in enumerate(frames):
        if frame_idx > segments[seg_nr][1]:
            seg_nr += 1
            if seg_nr == len(segments):
                break
            frame_list = []
        frame_list.append(f)
        if len(frame_list) == 16:
            snip = get_snips(frame_list, image_mean, 0, True)
            scores = predict(snip)
            segment2score.setdefault(segments[seg_nr], []).append(scores.mean(axis=0))
            frame_list = frame_list[stride:]
    for segment in segment2score:
        segment2score[segment] = np.array(segment2score[segment]).mean(axis=0)
    return segment2score


def torch_predict(c3d_params: Sequence[np.ndarray], head_params: Sequence[np.ndarray]
                  ) -> Predict:
    """The Lasagne network (conv1a … fc6, h1, h2, score) as plain torch.nn.functional calls
    over the parameter arrays in Lasagne layout; float32 like the release."""
    import torch
    import torch.nn.functional as F

    p = [torch.from_numpy(np.asarray(a, np.float32)) for a in c3d_params[:18]]
    h = [torch.from_numpy(np.asarray(a, np.float32)) for a in head_params]
    pools = {0: (1, 2, 2), 1: (2, 2, 2), 3: (2, 2, 2), 5: (2, 2, 2)}

    def predict(snip: np.ndarray) -> np.ndarray:
        with torch.no_grad():
            x = torch.from_numpy(np.ascontiguousarray(snip, np.float32))
            for i in range(8):
                x = F.relu(F.conv3d(x, p[2 * i], p[2 * i + 1], padding=1))
                if i in pools:
                    x = F.max_pool3d(x, pools[i], pools[i])
            x = F.pad(x, (0, 1, 0, 1))  # PadLayer width [(0,1),(0,1)] on height and width
            x = F.max_pool3d(x, 2, 2)
            x = F.relu(x.flatten(1) @ p[16] + p[17])
            x = F.relu(x @ h[0] + h[1])
            x = F.relu(x @ h[2] + h[3])
            return (x @ h[4] + h[5]).numpy()

    return predict


def pearson_and_median_error(ours: Sequence[float], release: Sequence[float]
                             ) -> tuple[float, float]:
    """Pearson's r and the median of |ours - release| / |release|."""
    a, b = np.asarray(ours, np.float64), np.asarray(release, np.float64)
    r = float(np.corrcoef(a, b)[0, 1]) if len(a) > 1 else float("nan")
    return r, float(np.median(np.abs(a - b) / np.maximum(np.abs(b), 1e-12)))
