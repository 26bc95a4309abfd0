"""Choose the top-k segments: best first, no two overlapping in time, no two showing the same thing.

Selection is greedy by score, in two passes. The first keeps whole candidate windows apart. When
that leaves fewer than ``k`` picks, the second also takes a candidate that overlaps a pick as long
as the two can be trimmed apart, each keeping its *core* (the middle :data:`CORE_SHARE` of its
window, the ranked moment) and at least the shortest GIF length; :func:`pick_reaches` then says
how far each pick may stretch, and :mod:`video2gif.boundaries` places the cuts.

Only when both passes still leave fewer than ``k`` picks, *fallback* candidates
(:func:`video2gif.segments.fallback_segments`: halves of a shot that is one whole candidate, a
too-short shot widened across the fades around it, a too-short shot whole) are tried, one kind
(*tier*) after the other, each with the same two passes and the same duplicate test. Picks made
from candidates therefore never change, and fallback picks come after them.

A *duplicate* is the same content shown again (a repeated shot, a replay, a still scene that
returns), not another moment of the same shot. Looking alike (the colour-layout and backbone
descriptors, cosine at or above a threshold) is necessary but not enough, because every moment of
one shot shares its background. :class:`ChangeEvidence` then compares what changes: the frames of
one candidate must reappear in the other (on 32×18 luma thumbnails, at most
:data:`REPLAY_SHARE` of the picture differs from the nearest frame of the other, or less than
:data:`REPLAY_RATIO` of how much each changes from one sampled frame to the next), and where both
have sound, their loudness over time must match too. Every suppressed candidate records which pick
it lost to and why.

Example:
    >>> import numpy as np
    >>> bounds = np.array([[0, 3], [1, 4], [5, 8]], dtype=float)
    >>> select_top_k(bounds, np.array([0.9, 0.8, 0.5]), k=2)
    [0, 2]
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from .boundaries import MAX_SHIFT, Reach, Track, shape_cuts
from .features.audio import BIN_SECONDS as AUDIO_BIN_SECONDS
from .features.audio import Loudness
from .segments import FALLBACK_KINDS, MIN_SECONDS

# Cosine similarity at or above which a candidate looks like an earlier pick, one figure per kind
# of descriptor (the only place these thresholds live): colour layout alone, and layout joined with
# the backbone's content (video2gif.features.novelty.combine_descriptors, whose docstring has the
# measurements behind 0.85).
DUPLICATE_SIMILARITY = 0.8  # layout descriptors
CONTENT_DUPLICATE_SIMILARITY = 0.85  # layout + content descriptors
MIN_GAP_SECONDS = 0.0  # picks must not overlap; raise to keep them further apart
CORE_SHARE = 1 / 3  # middle share of a candidate's window (the ranked moment) every cut keeps
MIN_PICK_SECONDS = MIN_SECONDS  # a trimmed pick is never shorter than the shortest candidate
PIXEL_CHANGE = 12.0  # luma step (0-255) at which a thumbnail pixel counts as different
REPLAY_SHARE = 0.01  # share of the picture that may differ in a repeat (compression, noise)
REPLAY_RATIO = 0.5  # ... or this share of the content's own change between sampled frames
SOUND_DIFFERS_DB = 6.0  # mean loudness difference (dB) at best alignment: different sound


@dataclass(frozen=True)
class Suppressed:
    """Why a candidate was not picked although it scored above the last pick."""

    pick: int  # index (into the candidates) of the pick it lost to
    reason: str  # "duplicate" or "overlap"
    detail: str  # in words, for segments.json and the report

    def to_dict(self, pick_number: int | None) -> dict:
        return {"pick": pick_number, "reason": self.reason, "detail": self.detail}


@dataclass(frozen=True)
class Selection:
    """The picks, best first, and what was left out on the way."""

    picks: list[int]
    suppressed: dict[int, Suppressed] = field(default_factory=dict)
    trimmed: bool = False  # some picks overlap as windows and must be trimmed apart


# A duplicate test: (candidate, pick) -> reason they show the same content, or None.
SameContent = Callable[[int, int], "str | None"]


class ChangeEvidence:
    """Compares what changes in two candidates: their frames and their sound.

    Arguments:
        bounds: (n, 2) start and end seconds of the candidates.
        track: the video's :class:`~video2gif.boundaries.Track` (sampled luma thumbnails).
        loudness_db: dB level of each :data:`AUDIO_BIN_SECONDS` bin, or None without sound.
        by_core: (n,) True for candidates (fallbacks) compared on cores with a pick they overlap:
            the frames both windows share would make any such pair alike, and the two GIFs
            keep only their cores for sure (None: none).
    """

    def __init__(self, bounds: np.ndarray, track: Track, loudness_db: np.ndarray | None = None,
                 by_core: np.ndarray | None = None) -> None:
        self.bounds = np.asarray(bounds, dtype=np.float64).reshape(-1, 2)
        self.track = track
        self.loudness_db = loudness_db
        self.by_core = (np.zeros(len(self.bounds), dtype=bool) if by_core is None
                        else np.asarray(by_core, dtype=bool))
        self._frames: dict[tuple[int, bool], np.ndarray] = {}

    def frames(self, i: int, keep: bool = False, core: bool = False) -> np.ndarray:
        """Candidate ``i``'s thumbnails (of its core only with ``core``) as rows; ``keep``
        caches them (the picks', which every later candidate is compared with; caching every
        candidate's would grow with the video)."""
        if (i, core) in self._frames:
            return self._frames[(i, core)]
        start, end = _core(self.bounds, i) if core else self.bounds[i]
        thumbs = self.track.thumbs_between(start, end)
        rows = thumbs.reshape(len(thumbs), -1).astype(np.float32)
        if keep:
            self._frames[(i, core)] = rows
        return rows

    def __call__(self, i: int, j: int) -> str | None:
        """Why candidate ``i`` shows the same content as pick ``j``, or None when it does not."""
        (si, ei), (sj, ej) = self.bounds[i], self.bounds[j]
        core = bool(self.by_core[i] or self.by_core[j]) and si < ej and sj < ei
        a, b = self.frames(i, core=core), self.frames(j, keep=True, core=core)
        if not len(a) or not len(b):
            return None
        cross = max(_reappear(a, b), _reappear(b, a))
        own = min(_own_change(a), _own_change(b))
        if cross > max(REPLAY_SHARE, REPLAY_RATIO * own):
            return None
        sound = self._sound_difference(i, j, core)
        if sound is not None and sound > SOUND_DIFFERS_DB:
            return None
        heard = "" if sound is None else f", sound within {sound:.1f} dB"
        if own <= REPLAY_SHARE:
            return f"nothing moves in either and the view is the same ({cross:.1%} differs{heard})"
        return (f"its frames reappear in the pick ({cross:.1%} of the picture differs, "
                f"{own:.1%} changes between its own frames{heard})")

    def _sound_difference(self, i: int, j: int, core: bool = False) -> float | None:
        """Mean |dB| difference of the two loudness curves (of the cores with ``core``) at their
        best alignment."""
        if self.loudness_db is None or not len(self.loudness_db):
            return None
        curves = []
        for k in (i, j):
            span = np.array(_core(self.bounds, k) if core else self.bounds[k])
            lo, hi = (span / AUDIO_BIN_SECONDS).round().astype(int)
            curves.append(self.loudness_db[max(lo, 0) : max(hi, 0)])
        a, b = curves
        if len(a) < 3 or len(b) < 3:
            return None
        if len(a) > len(b):
            a, b = b, a
        return min(float(np.abs(b[s : s + len(a)] - a).mean())
                   for s in range(len(b) - len(a) + 1))


def _distances(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """(len(a), len(b)) share of thumbnail pixels that differ by more than PIXEL_CHANGE, after
    removing an overall brightness shift."""
    d = a[:, None, :] - b[None, :, :]
    d -= np.median(d, axis=2, keepdims=True)
    return (np.abs(d) > PIXEL_CHANGE).mean(axis=2)


def _reappear(a: np.ndarray, b: np.ndarray) -> float:
    """How far a's frames are from their nearest frame in b (median over a's frames)."""
    return float(np.median(_distances(a, b).min(axis=1)))


def _own_change(a: np.ndarray) -> float:
    """How much a changes from one sampled frame to the next (median)."""
    if len(a) < 2:
        return 0.0
    d = a[1:] - a[:-1]
    d -= np.median(d, axis=1, keepdims=True)
    return float(np.median((np.abs(d) > PIXEL_CHANGE).mean(axis=1)))


def select_picks(
    bounds: np.ndarray,
    scores: np.ndarray,
    k: int,
    descriptors: np.ndarray | None = None,
    duplicate_similarity: float = DUPLICATE_SIMILARITY,
    same_content: SameContent | None = None,
    limits: np.ndarray | None = None,
    min_gap: float = MIN_GAP_SECONDS,
    min_length: float = MIN_PICK_SECONDS,
    tiers: np.ndarray | None = None,
) -> Selection:
    """Greedy selection by score without overlap or duplicates, trimming picks apart when the
    video has no room for ``k`` whole windows.

    Arguments:
        bounds: (n, 2) start and end seconds of each candidate.
        scores: (n,) scores; NaN candidates are never picked.
        k: how many picks at most.
        descriptors: (n, d) unit vectors describing how each candidate looks (None: no check).
        duplicate_similarity: cosine similarity at or above which two candidates look alike.
        same_content: for candidates that look alike, says whether they show the same content
            (e.g. a :class:`ChangeEvidence`); None: looking alike is enough.
        limits: (n, 2) earliest start and latest end each candidate's GIF may reach (its shot,
            clear of transitions); None: only the window itself, so nothing is trimmed apart.
        min_gap: seconds required between picks.
        min_length: the shortest a trimmed pick may become, seconds.
        tiers: (n,) 0 for a candidate, 1, 2 … for fallbacks tried only when the tiers before
            leave fewer than ``k`` picks, lowest tier first (None: all 0). Scores are compared
            within a tier only, so a fallback tier may be scored on a scale of its own.

    Returns:
        Selection with the picks (tier by tier, best first within a tier; fewer than ``k`` only
        when the video has fewer distinct moments) and the suppressed candidates.
    """
    bounds = np.asarray(bounds, dtype=np.float64).reshape(-1, 2)
    scores = np.asarray(scores, dtype=np.float64)
    order = [int(i) for i in np.argsort(-np.nan_to_num(scores, nan=-np.inf), kind="stable")
             if not np.isnan(scores[i])]
    picks: list[int] = []
    suppressed: dict[int, Suppressed] = {}
    duplicates: dict[int, Suppressed] = {}

    def duplicate_of(i: int) -> Suppressed | None:
        if descriptors is None or not picks:
            return None
        for j in picks:
            similarity = float(descriptors[j] @ descriptors[i])
            if similarity < duplicate_similarity:
                continue
            reason = same_content(i, j) if same_content is not None else "looks alike"
            if reason is not None:
                return Suppressed(j, "duplicate", f"looks alike ({similarity:.2f}); {reason}")
        return None

    tiers = np.zeros(len(bounds), dtype=int) if tiers is None else np.asarray(tiers, dtype=int)
    trimmed = False
    for tier in sorted({int(t) for t in tiers}):
        if len(picks) >= k:
            break
        pool = [i for i in order if tiers[i] == tier]
        for i in pool if tier else ():  # a fallback inside a duplicate is one too
            j = next((j for j in duplicates if tiers[j] == 0 and bounds[j][0] <= bounds[i][0]
                      + 1e-9 and bounds[i][1] <= bounds[j][1] + 1e-9), None)
            if j is not None:
                dup = duplicates[j]
                suppressed[i] = duplicates[i] = Suppressed(
                    dup.pick, "duplicate", f"part of a candidate that shows the same: {dup.detail}")
        for i in pool:  # pass 1: whole windows
            if len(picks) >= k:
                break
            start, end = bounds[i]
            clash = next((j for j in picks
                          if start < bounds[j][1] + min_gap and bounds[j][0] < end + min_gap),
                         None)
            if clash is not None:
                if tier == 0:  # a fallback overlapping a pick is not worth a report line
                    suppressed[i] = Suppressed(clash, "overlap", "overlaps the pick in time")
                continue
            dup = duplicates.get(i) or duplicate_of(i)
            if dup is not None:
                suppressed[i] = duplicates[i] = dup
                continue
            picks.append(i)
        while len(picks) < k and limits is not None:  # pass 2: trim overlapping picks apart
            # The candidate that overlaps the picks least comes first (then the better one), so
            # the added picks are other moments, not the picked ones cut in two.
            fits = [i for i in pool if i not in picks and i not in duplicates
                    and _packing(bounds, np.asarray(limits), [*picks, i], min_gap, min_length)]
            fits.sort(key=lambda i: _overlap(bounds, picks, i))  # stable: score order breaks ties
            for i in fits:
                dup = duplicate_of(i)
                if dup is None:
                    picks.append(i)
                    suppressed.pop(i, None)
                    trimmed = True
                    break
                suppressed[i] = duplicates[i] = dup
            else:
                break
    picks.sort(key=lambda i: (tiers[i], order.index(i)))
    return Selection(picks=picks, suppressed=suppressed, trimmed=trimmed)


def select_top_k(
    bounds: np.ndarray,
    scores: np.ndarray,
    k: int,
    descriptors: np.ndarray | None = None,
    duplicate_similarity: float = DUPLICATE_SIMILARITY,
    min_gap: float = MIN_GAP_SECONDS,
) -> list[int]:
    """Indices of the picks, best first: :func:`select_picks` on whole windows, where looking
    alike is enough to be a duplicate."""
    return select_picks(bounds, scores, k, descriptors, duplicate_similarity,
                        min_gap=min_gap).picks


def _overlap(bounds: np.ndarray, picks: Sequence[int], i: int) -> float:
    """Seconds of candidate ``i`` that lie inside the picks' windows."""
    start, end = bounds[i]
    return float(sum(max(0.0, min(end, bounds[j][1]) - max(start, bounds[j][0])) for j in picks))


def _core(bounds: np.ndarray, i: int) -> tuple[float, float]:
    start, end = bounds[i]
    margin = (end - start) * (1 - CORE_SHARE) / 2
    return start + margin, end - margin


def _outer(bounds: np.ndarray, limits: np.ndarray, i: int) -> tuple[float, float]:
    start, end = bounds[i]
    return max(limits[i][0], start - MAX_SHIFT), min(limits[i][1], end + MAX_SHIFT)


def _packing(bounds, limits, picks: Sequence[int], min_gap: float, min_length: float
             ) -> list[tuple[float, float]] | None:
    """Earliest feasible (start, end) of each pick in time order, or None when the picks cannot
    be trimmed apart. Packing each pick as early as it may go is optimal for a fixed order, and
    the order is fixed because cores may not overlap."""
    ordered = sorted(picks, key=lambda i: _core(bounds, i)[0])
    out, previous = [], -np.inf
    for i in ordered:
        core_start, core_end = _core(bounds, i)
        lo, hi = _outer(bounds, limits, i)
        length = min(min_length, bounds[i][1] - bounds[i][0])
        start = max(lo, previous + min_gap)
        end = max(core_end, start + length)
        if start > core_start + 1e-9 or end > hi + 1e-9:
            return None
        out.append((start, end))
        previous = end
    return out


def pick_reaches(
    bounds: np.ndarray,
    picks: Sequence[int],
    limits: np.ndarray | None = None,
    min_gap: float = MIN_GAP_SECONDS,
    min_length: float = MIN_PICK_SECONDS,
) -> list[Reach]:
    """How far each pick may stretch (in the order of ``picks``): inside its limits, within
    MAX_SHIFT of its window, and on its own side of a split point with each time neighbour.

    The split between two neighbours lies midway between their windows (in the gap, or in the
    overlap), moved as little as needed for both to keep their core and the minimum length.
    """
    bounds = np.asarray(bounds, dtype=np.float64).reshape(-1, 2)
    if limits is None:
        limits = bounds
    limits = np.asarray(limits, dtype=np.float64)
    ordered = sorted(picks, key=lambda i: _core(bounds, i)[0])
    earliest = _packing(bounds, limits, ordered, min_gap, min_length)
    latest = _packing_from_right(bounds, limits, ordered, min_gap, min_length)
    reach: dict[int, Reach] = {}
    left = -np.inf
    for n, i in enumerate(ordered):
        lo, hi = _outer(bounds, limits, i)
        right = np.inf
        if n + 1 < len(ordered):
            j = ordered[n + 1]
            split = (bounds[i][1] + bounds[j][0]) / 2
            if earliest is not None and latest is not None:
                split = min(max(split, earliest[n][1]), latest[n + 1][0] - min_gap)
            right = split
        core_start, core_end = _core(bounds, i)
        reach[i] = Reach(start=float(bounds[i][0]), end=float(bounds[i][1]),
                         lo=float(max(lo, left)), hi=float(min(hi, right)),
                         core_start=core_start, core_end=core_end)
        left = right + min_gap
    return [reach[i] for i in picks]


def _packing_from_right(bounds, limits, ordered, min_gap, min_length):
    """Latest feasible (start, end) of each pick in time order, or None."""
    out, following = [], np.inf
    for i in reversed(ordered):
        core_start, core_end = _core(bounds, i)
        lo, hi = _outer(bounds, limits, i)
        length = min(min_length, bounds[i][1] - bounds[i][0])
        end = min(hi, following - min_gap)
        start = min(core_start, end - length)
        if end < core_end - 1e-9 or start < lo - 1e-9:
            return None
        out.append((start, end))
        following = start
    return out[::-1]


def fallback_tier(segment) -> int:
    """0 for a candidate; 1, 2 … for a fallback, in the order of
    :data:`~video2gif.segments.FALLBACK_KINDS` (halves of a shot first)."""
    kind = getattr(segment, "fallback", "")
    return FALLBACK_KINDS.index(kind) + 1 if kind else 0


def choose_picks(
    segments: Sequence,
    scores: np.ndarray,
    k: int,
    descriptors: np.ndarray | None,
    duplicate_similarity: float,
    track: Track | None = None,
    measurements: Mapping[str, np.ndarray] | None = None,
    min_length: float = MIN_PICK_SECONDS,
) -> tuple[Selection, list]:
    """The pipeline's selection: :func:`select_picks` with :class:`ChangeEvidence` from the
    decode pass, then each pick's GIF-shaped cut (:func:`video2gif.boundaries.shape_cuts`).

    Arguments:
        segments: the candidates (``start``, ``end``, ``shot``), in time order, then any
            fallback candidates (``fallback`` set; see :func:`fallback_tier`).
        scores, k, descriptors, duplicate_similarity: as :func:`select_picks`.
        track: the video's motion track (None: duplicates by looks alone, cuts as ranked).
        measurements: the feature extractor's measurements; its ``audio.*`` loudness, when the
            video has sound, is compared too.
        min_length: shortest cut, seconds.

    Returns:
        (Selection, one :class:`~video2gif.boundaries.Cut` per pick in the selection's order).
    """
    loudness_db = None
    if measurements is not None and "audio.energy" in measurements:
        loud = Loudness(measurements["audio.energy"], measurements["audio.counts"])
        loudness_db = None if loud.silent else loud.db

    bounds = np.array([[s.start, s.end] for s in segments], dtype=np.float64).reshape(-1, 2)
    tiers = np.array([fallback_tier(s) for s in segments], dtype=int)
    limits = bounds.copy()
    # A GIF may reach anywhere its shot's candidates do; a fallback, where its shot's fallbacks
    # of its kind do (a candidate never reaches into a fade because a fallback may).
    groups: dict[tuple[int, int], list[int]] = {}
    for i, (s, t) in enumerate(zip(segments, tiers)):
        groups.setdefault((s.shot, int(t)), []).append(i)
    for rows in groups.values():
        limits[rows, 0] = bounds[rows, 0].min()
        limits[rows, 1] = bounds[rows, 1].max()
    evidence = None
    if track is not None and len(track.thumbs):
        evidence = ChangeEvidence(bounds, track, loudness_db, by_core=tiers > 0)
    selection = select_picks(bounds, scores, k, descriptors, duplicate_similarity,
                             same_content=evidence, limits=limits, min_length=min_length,
                             tiers=tiers)
    reaches = pick_reaches(bounds, selection.picks, limits, min_length=min_length)
    return selection, shape_cuts(track, reaches, min_length)
