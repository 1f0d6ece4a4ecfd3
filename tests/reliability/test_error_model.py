"""HTTP statuses live in one table of the API layer; the library's errors carry only a code."""

from __future__ import annotations

from fastapi.testclient import TestClient

from api.errors import PayloadTooLargeError, status_of
from qa.errors import IndexMismatchError, InputError, NotFoundError, QAError


class SomeNewError(QAError):
    code = "something"


class IndexChangedError(QAError):
    code = "index_changed"


def test_statuses_come_from_the_api_table() -> None:
    assert not any(hasattr(cls, "status") for cls in (QAError, InputError, NotFoundError, IndexMismatchError))
    assert status_of(InputError("x")) == 400 and status_of(NotFoundError("x")) == 404
    assert status_of(SomeNewError("x")) == 400  # an error class the table does not know: bad input
    assert status_of(IndexChangedError("x")) == 409  # a conflict by name


def test_the_body_limit_raises_payload_too_large(client: TestClient) -> None:
    response = client.post("/v1/ask", content=b"x" * 2_000_000, headers={"content-type": "application/json"})
    assert response.status_code == 413 == status_of(PayloadTooLargeError("x"))
    assert response.json()["error"]["code"] == PayloadTooLargeError.code
