"""The bundled example's picks and scores are pinned: tests/data/golden/ holds its segments.json.

When a change alters them on purpose, run ``.venv/bin/python scripts/regenerate_golden.py`` and
commit the new file with a message saying why the picks changed. Scores match to within
:data:`SCORE_TOLERANCE` (float noise across machines), picks, candidates, shots and the model
description exactly.
"""

from __future__ import annotations

import importlib.util
import json

import pytest

from .conftest import REPO

_SPEC = importlib.util.spec_from_file_location("regenerate_golden",
                                               REPO / "scripts" / "regenerate_golden.py")
golden = importlib.util.module_from_spec(_SPEC)
_SPEC.loader.exec_module(golden)
SCORE_TOLERANCE = golden.SCORE_TOLERANCE


def test_compare_names_what_changed():
    doc = json.loads(golden.golden_path(golden.EXAMPLE).read_text())
    assert golden.compare(doc, doc) == []
    moved = json.loads(json.dumps(doc))
    first = next(s for s in moved["segments"] if s["score"] is not None)
    first["score"] += 10 * SCORE_TOLERANCE
    assert any("score" in d for d in golden.compare(doc, moved))
    first["score"] -= 10 * SCORE_TOLERANCE - SCORE_TOLERANCE / 10  # float noise: the same
    assert golden.compare(doc, moved) == []


@pytest.mark.skipif(not golden.EXAMPLE.exists(), reason="the bundled example is missing")
def test_bundled_example_picks_and_scores_are_unchanged():
    expected = json.loads(golden.golden_path(golden.EXAMPLE).read_text())
    differences = golden.compare(expected, golden.document(golden.EXAMPLE))
    assert not differences, (
        "the bundled example's picks or scores changed: " + "; ".join(differences[:8])
        + ". If intended, run scripts/regenerate_golden.py and commit the new golden file.")
