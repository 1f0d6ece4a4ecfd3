"""The ranking model scored through LightGBM's C library: LightGBM's own scores, without importing lightgbm."""

from __future__ import annotations

import os
import subprocess
import sys
from importlib import resources
from pathlib import Path

import lightgbm
import numpy as np
import pytest

from qa.errors import InputError
from qa.search import booster
from qa.search.features import FEATURE_NAMES
from qa.search.ranker import Ranker

ROOT = Path(__file__).resolve().parents[3]
MODEL = (resources.files("qa.search") / "models" / "ranker.txt").read_text(encoding="utf-8")


def features(rows: int) -> np.ndarray:
    rng = np.random.default_rng(5)
    x = rng.normal(size=(rows, len(FEATURE_NAMES))).astype(np.float32)
    x[::7, 3] = np.nan  # missing values take the default side
    x[::5, 11] = 0.0
    return x


def test_scores_are_lightgbms_own() -> None:
    ranker = Ranker(MODEL)
    assert isinstance(ranker.booster, booster.NativeBooster)
    assert tuple(ranker.booster.feature_name()) == FEATURE_NAMES
    x = features(500)
    expected = lightgbm.Booster(model_str=MODEL).predict(x, num_threads=1)
    np.testing.assert_array_equal(ranker.score_features(x), expected.astype(np.float32))


def test_without_the_library_lightgbm_scores(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(booster, "_library", lambda: None)
    ranker = Ranker(MODEL)
    assert isinstance(ranker.booster, lightgbm.Booster)
    assert ranker.score_features(features(3)).shape == (3,)


def test_a_damaged_model_is_refused() -> None:
    with pytest.raises(InputError, match="cannot load ranking model"):
        Ranker("tree\nversion=v4\nTree=0\nnum_leaves=x\n", origin="damaged.txt")


def test_loading_the_ranker_does_not_import_lightgbm() -> None:
    code = "import sys; from qa.search import load_ranker; load_ranker(); print('lightgbm' in sys.modules)"
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True)
    assert done.stdout.strip() == "False"
