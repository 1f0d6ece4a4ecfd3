"""Domain errors raised by the library; the CLI and the API turn them into messages and status codes."""

from __future__ import annotations


class QAError(Exception):
    """Base class of every error the library raises on purpose."""

    code = "error"
    status = 400


class InputError(QAError, ValueError):
    """Bad input: a file, a question set or a request that cannot be used as given."""

    code = "bad_input"
    status = 400


class NotFoundError(QAError, LookupError):
    """Something named by the caller (a document, an index) does not exist."""

    code = "not_found"
    status = 404


class IndexMismatchError(QAError):
    """An index that cannot be used with this configuration (other model, dimension or format)."""

    code = "index_mismatch"
    status = 409


class IndexDamagedError(IndexMismatchError):
    """An index whose files are missing, cut short or inconsistent: it is refused, never served."""

    code = "index_damaged"
    status = 503


class IndexConflictError(QAError):
    """A write that would overwrite another writer's work: the index changed on disk, or is being written."""

    code = "conflict"
    status = 409
