"""Fixtures of the reliability suite: an app over a small fake-encoder index, and a client of it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from tests.reliability.reliability_app import make_app


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> FastAPI:
    """One app per test module."""
    return make_app(tmp_path_factory.mktemp("reliability"))


@pytest.fixture(scope="module")
def client(app: FastAPI) -> Iterator[TestClient]:
    """A client of the module's app that returns 500s instead of raising them."""
    with TestClient(app, raise_server_exceptions=False) as test_client:
        yield test_client
