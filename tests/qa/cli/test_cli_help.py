"""Every command's help keeps the settings and defaults its options name."""

from __future__ import annotations

import re

import pytest
from typer.testing import CliRunner

import api.cli  # noqa: F401  (registers `qa serve`)
from qa.cli import app

runner = CliRunner()


def help_text(command: str) -> str:
    """The command's help with line wrapping undone."""
    result = runner.invoke(app, [command, "--help"])
    assert result.exit_code == 0, result.output
    return " ".join(result.output.split())


COMMANDS = ["index", "ask", "cite", "batch", "eval", "chunks", "serve"]


@pytest.mark.parametrize("command", COMMANDS)
def test_help_shows_env_and_defaults(command: str) -> None:
    text = help_text(command)
    if command in {"index", "ask", "cite", "batch", "serve"}:
        assert "Index directory [env QA_INDEX_DIR; default var/index]." in text
    assert text.count("[env ") == len(re.findall(r"\[env QA_[A-Z_]+[;\]]", text))


def test_serve_help_names_host_port_and_corpus_defaults() -> None:
    text = help_text("serve")
    for default in (
        "[env QA_HOST; default 127.0.0.1]",
        "[env QA_PORT; default 8000]",
        "[env QA_CORPUS; default seeds]",
    ):
        assert default in text
