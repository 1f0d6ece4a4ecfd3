"""Read documents from disk or JSONL into :class:`~qa.types.Document` objects.

The original text is what Python's text mode gives for the file (UTF-8, GB18030 or another
detected encoding; line endings folded to ``\\n``; a UTF-8 byte-order mark kept as the
character U+FEFF, as ``open(path, encoding="utf-8").read()`` keeps it). All offsets refer to
that string.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterator, Mapping
from pathlib import Path

import yaml
from charset_normalizer import from_bytes

from qa.errors import InputError
from qa.ingest.binary import BINARY_KINDS, legacy_word_message, parse_binary
from qa.ingest.docx import UnreadableDocxError
from qa.ingest.jsonlines import iter_json_objects
from qa.ingest.markup import CleanTextBuilder, clean_html, clean_markdown, clean_plain, looks_like_html
from qa.ingest.metadata import checked_fields, extract_meta, split_front_matter
from qa.ingest.pdf import UnreadablePdfError
from qa.text import repair_text
from qa.types import Block, Document

log = logging.getLogger(__name__)

SUFFIXES = frozenset({".txt", ".md", ".markdown", ".html", ".htm", ".text", ".pdf", ".docx", ".doc"})
_MD_HEADING_LINE = re.compile(r"^[ ]{0,3}#{1,6}[ \t]+\S", re.MULTILINE)
_TERMINAL = "。！？!?；;：:，,、…"
SIDECAR_SUFFIXES = (".meta.yaml", ".meta.yml", ".meta.json")


class UnreadableFileError(InputError):
    """A file that is binary or cannot be decoded as text."""


def _stray_bytes(data: bytes) -> list[int] | None:
    """Where UTF-8 text holds bytes that are not UTF-8, or None when it is not UTF-8 text.

    Stray bytes are few, and nearly every byte outside ASCII forms valid UTF-8 around them (text
    in another encoding, GB18030 say, fails at almost every character).
    """
    limit = max(8, len(data) // 10_000)
    found: list[int] = []
    bad = start = 0
    while len(found) <= limit:
        try:
            data[start:].decode("utf-8")
        except UnicodeDecodeError as exc:
            found.append(start + exc.start)
            bad += exc.end - exc.start
            start += exc.end
            continue
        non_ascii = len(data.translate(None, bytes(range(128))))  # the bytes left once ASCII is deleted
        return found if bad * 20 <= non_ascii else None
    return None


def decode_bytes(data: bytes, name: str) -> str:
    """Decode file bytes to text: UTF-8 first, then GB18030, then a detected encoding.

    UTF-8 text with a few stray bytes is still read as UTF-8, each stray byte replaced by
    U+FFFD (offsets refer to that text), with a warning giving the byte positions.
    """
    if b"\x00" in data[:8192]:
        raise UnreadableFileError(f"{name}: binary file (NUL bytes), skipped")
    stray = _stray_bytes(data)
    if stray:
        log.warning("%s: bytes that are not UTF-8 at byte %s, read as U+FFFD", name, ", ".join(map(str, stray)))
        text = data.decode("utf-8", errors="replace")
    elif stray is not None:
        text = data.decode("utf-8")
    else:
        text = _decode_other(data, name)
    return text.replace("\r\n", "\n").replace("\r", "\n")


def _decode_other(data: bytes, name: str) -> str:
    """Text that is not UTF-8: GB18030, else the encoding charset-normalizer detects."""
    try:
        return data.decode("gb18030")
    except UnicodeDecodeError:
        best = from_bytes(data).best()
    if best is None:
        raise UnreadableFileError(f"{name}: cannot be decoded as text, skipped")
    return str(best)


def _looks_like_markdown(text: str) -> bool:
    return bool(_MD_HEADING_LINE.search(text))


def _mark_plain_headings(clean: str, blocks: tuple[Block, ...]) -> tuple[Block, ...]:
    """Mark headings in plain text.

    The first line is the title (level 1) when it is short and has no closing punctuation;
    any later short line without closing punctuation, followed by a much longer line, is a
    section heading (level 2).
    """
    out = list(blocks)
    for i, block in enumerate(blocks):
        line = clean[block.start : block.end].strip()
        if not line or len(line) > 40 or line[-1] in _TERMINAL or not any(c.isalnum() for c in line):
            continue
        following = clean[blocks[i + 1].start : blocks[i + 1].end].strip() if i + 1 < len(blocks) else ""
        if i == 0 or len(following) > 2 * len(line):
            out[i] = Block(block.start, block.end, "heading", 1 if i == 0 else 2)
    return tuple(out)


def parse_document(doc_id: str, original: str, kind: str = "auto", fields: Mapping[str, str] | None = None) -> Document:
    """Build a :class:`Document` from its original text.

    ``kind`` is ``"html"``, ``"markdown"``, ``"text"`` or ``"auto"`` (decided by content).
    ``fields`` are metadata given from outside (JSONL fields, a sidecar file, an API request);
    they override the front matter's, which override what is found in the text.
    """
    front, body_start = split_front_matter(original, f"{doc_id}: front matter")
    if body_start == 0 and original.startswith("\ufeff"):
        body_start = 1  # a byte-order mark is part of the original text, never of the clean one
    merged = {**front, **(fields or {})}
    body = original[body_start:]
    if kind == "auto":
        kind = "html" if looks_like_html(body) else "markdown" if _looks_like_markdown(body) else "text"
    builder = CleanTextBuilder(original)
    {"html": clean_html, "markdown": clean_markdown}.get(kind, clean_plain)(builder, body_start)
    clean, starts, ends, blocks = builder.build()
    if kind == "text":
        blocks = _mark_plain_headings(clean, blocks)
    meta = extract_meta(clean, blocks, merged, fallback_title=Path(doc_id).stem)
    return Document(doc_id, original, clean, starts, ends, blocks, meta)


def read_file(path: Path, doc_id: str) -> Document:
    """Read one file and its metadata sidecar, if any (sidecar fields override front matter).

    PDF and DOCX files are read by :func:`~qa.ingest.binary.parse_binary`. Raises
    :class:`UnreadableFileError` for binary or undecodable files (a .doc, a PDF without text)
    and :class:`InputError` for a sidecar that cannot be used or an encrypted PDF.
    """
    suffix = path.suffix.lower()
    if suffix == ".doc":
        raise UnreadableFileError(legacy_word_message(str(path)))
    if suffix in BINARY_KINDS:
        try:
            return parse_binary(doc_id, path.read_bytes(), BINARY_KINDS[suffix], read_sidecar(path), str(path))
        except (UnreadablePdfError, UnreadableDocxError) as exc:
            raise UnreadableFileError(str(exc)) from None
    original = decode_bytes(path.read_bytes(), str(path))
    kind = "html" if suffix in {".html", ".htm"} else "markdown" if suffix in {".md", ".markdown"} else "auto"
    return parse_document(doc_id, original, kind, read_sidecar(path))


def is_sidecar(path: Path) -> bool:
    """True for a metadata sidecar (``NAME.ext.meta.yaml``, ``.meta.yml`` or ``.meta.json``)."""
    return path.name.lower().endswith(SIDECAR_SUFFIXES)


def read_sidecar(path: Path) -> dict[str, str]:
    """The metadata fields of ``path``'s sidecar file, or none when it has no sidecar."""
    found = [s for s in (path.with_name(path.name + suffix) for suffix in SIDECAR_SUFFIXES) if s.is_file()]
    if not found:
        return {}
    if len(found) > 1:
        raise InputError(f"{path}: several metadata sidecars ({', '.join(s.name for s in found)}); keep one")
    sidecar = found[0]
    try:
        text = decode_bytes(sidecar.read_bytes(), str(sidecar)).removeprefix("\ufeff")
    except UnreadableFileError:
        raise InputError(f"{sidecar}: a metadata sidecar must be a text file") from None
    try:
        data = json.loads(text) if sidecar.suffix.lower() == ".json" else yaml.safe_load(text)
    except json.JSONDecodeError as exc:
        raise InputError(f"{sidecar}:{exc.lineno}: not valid JSON ({exc.msg})") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{sidecar}:{mark.line + 1}" if mark is not None else str(sidecar)
        raise InputError(f"{where}: not valid YAML ({getattr(exc, 'problem', None) or exc})") from None
    if data is None:  # an empty YAML file: no fields
        return {}
    if not isinstance(data, dict):
        raise InputError(f"{sidecar}: a metadata sidecar must hold a mapping of fields, not a {type(data).__name__}")
    return checked_fields(data, str(sidecar))


def read_jsonl(path: Path) -> Iterator[Document]:
    """Documents from a corpus JSONL file: ``{"id", "title", "text", ...}`` per line (any encoding
    :func:`decode_bytes` reads)."""
    try:
        text = decode_bytes(path.read_bytes(), str(path))
    except OSError as exc:
        raise InputError(f"{path}: cannot read ({exc.strerror or exc})") from None
    for number, row in iter_json_objects(text.removeprefix("\ufeff").splitlines(), str(path)):
        if "text" not in row:
            raise InputError(f'{path}:{number}: each line needs at least "id" and "text"')
        doc_id, original = str(row.get("id", number)), str(row["text"])
        fields = checked_fields({k: v for k, v in row.items() if k not in {"id", "text"}}, f"{path}:{number}")
        given = [doc_id, original, *fields.keys(), *fields.values()]
        if any(repair_text(value) != value for value in given):  # "\udc00" escapes: not valid Unicode
            log.warning("%s:%d: unpaired surrogates read as U+FFFD", path, number)
            doc_id, original = repair_text(doc_id), repair_text(original)
            fields = {repair_text(k): repair_text(v) for k, v in fields.items()}
        yield parse_document(doc_id, original, "auto", fields)


def is_corpus_jsonl(path: Path) -> bool:
    """True for a ``.jsonl`` file (a corpus of documents, one per line)."""
    return path.is_file() and path.suffix.lower() == ".jsonl"


def iter_documents(paths: list[Path]) -> Iterator[Document]:
    """Every document under the given folders, files and corpus JSONL files.

    In a folder, document ids are paths relative to that folder; a single file's id is its
    name. Unreadable files are skipped with a warning naming them.
    """
    for root in paths:
        if not root.exists():
            raise InputError(f"{root}: no such file or folder")
        if is_corpus_jsonl(root):
            yield from read_jsonl(root)
            continue
        if root.is_dir():
            # sidecars end in .yaml, .yml or .json, none of which is a document suffix
            files = sorted(p for p in root.rglob("*") if p.is_file() and p.suffix.lower() in SUFFIXES)
            items = [(p, p.relative_to(root).as_posix()) for p in files if not _hidden(p.relative_to(root))]
        elif is_sidecar(root):
            raise InputError(f"{root}: a metadata sidecar, not a document; give the document it describes")
        else:
            items = [(root, root.name)]
        for path, doc_id in items:
            try:
                yield read_file(path, doc_id)
            except UnreadableFileError as exc:
                log.warning("%s", exc)


def _hidden(relative: Path) -> bool:
    return any(part.startswith(".") for part in relative.parts)
