"""Settings: the one place where the cache and model folders are resolved from the environment."""

from __future__ import annotations

from pathlib import Path

import pytest

from qa.building import open_cache
from qa.settings import Settings


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> pytest.MonkeyPatch:
    for name in ("QA_MODEL_DIR", "QA_CACHE_DIR", "XDG_CACHE_HOME"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    return monkeypatch


def test_default_folders_are_under_home_cache(clean_env: pytest.MonkeyPatch, tmp_path: Path) -> None:
    settings = Settings(_env_file=None)
    assert settings.model_dir == tmp_path / "home" / ".cache" / "chuchu" / "models"
    assert settings.cache_dir == tmp_path / "home" / ".cache" / "chuchu"


def test_xdg_cache_home_is_honoured_when_absolute(clean_env: pytest.MonkeyPatch, tmp_path: Path) -> None:
    clean_env.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    settings = Settings(_env_file=None)
    assert settings.model_dir == tmp_path / "xdg" / "chuchu" / "models"
    assert settings.cache_dir == tmp_path / "xdg" / "chuchu"
    clean_env.setenv("XDG_CACHE_HOME", "relative/xdg")  # not absolute: ignored, as the XDG spec says
    assert Settings(_env_file=None).cache_dir == tmp_path / "home" / ".cache" / "chuchu"


def test_explicit_folders_win(clean_env: pytest.MonkeyPatch, tmp_path: Path) -> None:
    clean_env.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    clean_env.setenv("QA_MODEL_DIR", str(tmp_path / "models"))
    clean_env.setenv("QA_CACHE_DIR", str(tmp_path / "cache"))
    settings = Settings(_env_file=None)
    assert (settings.model_dir, settings.cache_dir) == (tmp_path / "models", tmp_path / "cache")
    with open_cache(settings) as cache:
        assert cache.path == tmp_path / "cache" / "embeddings.sqlite"
