"""The OpenAPI schema says what the server does: schemathesis, every check, bounded and seeded, 0 failures."""

from __future__ import annotations

import tempfile
from pathlib import Path

import schemathesis
from fastapi import FastAPI
from hypothesis import HealthCheck, settings

from tests.reliability.reliability_app import API_KEY, make_app

_ROOT = tempfile.TemporaryDirectory(prefix="contract-")
APP: FastAPI = make_app(Path(_ROOT.name))
CONFIG = schemathesis.Config.from_path(Path(__file__).with_name("schemathesis.toml"))
schema = schemathesis.openapi.from_asgi("/openapi.json", APP, config=CONFIG)


@schema.parametrize()
@settings(
    max_examples=25,
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=list(HealthCheck),
)
def test_schema_is_what_the_server_does(case: schemathesis.Case) -> None:
    case.call_and_validate(headers={"X-API-Key": API_KEY})  # every check: schemathesis.toml enables all
