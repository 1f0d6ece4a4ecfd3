"""The ``qa`` command line: a thin layer over the library (JSON lines out by default).

Each module registers its commands on the one :data:`app`; importing this package registers them all.
"""

from __future__ import annotations

from qa.cli import asking, indexing, runs
from qa.cli.common import IndexOpt, ModelOpt, app, fail, notice, reported_errors

__all__ = ["IndexOpt", "ModelOpt", "app", "asking", "fail", "indexing", "notice", "reported_errors", "runs"]
