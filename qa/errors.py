"""Domain errors raised by the library; the CLI turns them into messages, the API into status codes (api/errors.py)."""

from __future__ import annotations


class QAError(Exception):
    """Base class of every error the library raises on purpose."""

    code = "error"


class InputError(QAError, ValueError):
    """Bad input: a file, a question set or a request that cannot be used as given."""

    code = "bad_input"


class NotFoundError(QAError, LookupError):
    """Something named by the caller (a document, an index) does not exist."""

    code = "not_found"


class IndexMismatchError(QAError):
    """An index that cannot be used with this configuration (other model, dimension or format)."""

    code = "index_mismatch"


class IndexDamagedError(IndexMismatchError):
    """An index whose files are missing, cut short or inconsistent: it is refused, never served."""

    code = "index_damaged"


class IndexConflictError(QAError):
    """A write that would overwrite another writer's work: the index changed on disk, or is being written."""

    code = "conflict"


class IndexBackendError(IndexMismatchError):
    """An index server that cannot be used: unreachable, too old for what the index needs, or failing."""

    code = "index_backend"
