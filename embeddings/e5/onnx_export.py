"""The default model as an ONNX graph for ONNX Runtime: fp32, or int8 by dynamic quantization.

The graph is exported once from the converted sentence-transformers folder into a sibling
folder ``multilingual-e5-small-onnx-PRECISION`` (``model.onnx``, ``tokenizer.json`` and a
provenance marker), atomically and under the same lock as the conversion. The export runs in
a child process (``python -m embeddings.e5.onnx_export``), so the process that asked for it
never imports torch and does not keep the export's memory peak.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import warnings
from functools import partial
from pathlib import Path

from embeddings.e5.hf_folder import MARKER_FILE, Progress
from embeddings.e5.install import DEFAULT_MODEL_NAME, ensure_default_model, install_folder
from embeddings.errors import ProvisionError

EXPORTER_VERSION = 1
ONNX_FILE = "model.onnx"
TOKENIZER_FILE = "tokenizer.json"
PRECISIONS = ("fp32", "int8")
_OPSET = 17


def onnx_folder(model_dir: Path, precision: str) -> Path:
    """Where the ONNX export of the default model in ``precision`` lives."""
    return Path(model_dir).expanduser() / f"{DEFAULT_MODEL_NAME}-onnx-{precision}"


def is_exported(folder: Path, *, precision: str, source_marker: dict[str, object]) -> bool:
    """True when ``folder`` holds a complete ``precision`` export made by this exporter from the
    converted folder whose provenance marker is ``source_marker``."""
    if not all((folder / name).is_file() for name in (ONNX_FILE, TOKENIZER_FILE, MARKER_FILE)):
        return False
    try:
        marker = json.loads((folder / MARKER_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return bool(marker == _marker(source_marker, precision))


def _marker(source_marker: dict[str, object], precision: str) -> dict[str, object]:
    return {"exporter_version": EXPORTER_VERSION, "precision": precision, "opset": _OPSET, "source": source_marker}


def ensure_onnx_model(model_dir: Path, precision: str, *, progress: Progress | None = None) -> Path:
    """Return the ONNX folder of the default model in ``precision`` (``"fp32"`` or ``"int8"``), exporting it if needed.

    Args:
        model_dir: folder holding converted models (the sentence-transformers folder is made first if missing).
        precision: ``"fp32"`` (the same vectors as torch) or ``"int8"`` (dynamically quantized weights).
        progress: called with a line of text for each step of a conversion or export.

    Returns:
        The folder. Raises ProvisionError when the export fails.
    """
    if precision not in PRECISIONS:
        raise ProvisionError(f"unknown ONNX precision {precision!r}; expected one of {', '.join(PRECISIONS)}")
    base = ensure_default_model(model_dir, progress=progress)
    source_marker = json.loads((base / MARKER_FILE).read_text(encoding="utf-8"))
    target = onnx_folder(model_dir, precision)
    what = f"exporting the default model to ONNX ({precision}) into {target} (one-time, about a minute)"
    build = partial(_build, base=base, precision=precision, marker=_marker(source_marker, precision))
    ready = partial(is_exported, precision=precision, source_marker=source_marker)
    return install_folder(target, build, ready=ready, progress=progress, what=what, lock_name=DEFAULT_MODEL_NAME)


def _build(tmp: Path, *, base: Path, precision: str, marker: dict[str, object]) -> None:
    """Export in a child process into ``tmp``, then add the tokenizer and the marker."""
    package_root = str(Path(__file__).resolve().parents[2])
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [package_root, os.environ.get("PYTHONPATH")])))
    command = [sys.executable, "-m", "embeddings.e5.onnx_export", str(base), str(tmp), precision]
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0 or not (tmp / ONNX_FILE).is_file():
        tail = "\n".join((done.stderr or done.stdout).strip().splitlines()[-5:])
        raise ProvisionError(f"exporting the default model to ONNX failed (exit {done.returncode}): {tail}")
    shutil.copyfile(base / TOKENIZER_FILE, tmp / TOKENIZER_FILE)
    (tmp / MARKER_FILE).write_text(json.dumps(marker, indent=2) + "\n", encoding="utf-8")


def export_onnx(base: Path, dest: Path, precision: str) -> None:
    """Write ``dest/model.onnx``: the BERT encoder of the folder ``base`` (inputs ``input_ids``,
    ``attention_mask``; output ``last_hidden_state``), quantized to int8 if ``precision`` says so."""
    import torch
    from transformers import AutoModel

    model = AutoModel.from_pretrained(str(base)).eval()

    class HiddenStates(torch.nn.Module):
        """The encoder's last hidden states only (mean pooling is done outside the graph)."""

        def __init__(self) -> None:
            super().__init__()
            self.bert = model

        def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
            return self.bert(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state

    ids = torch.ones((2, 8), dtype=torch.long)
    axes = {name: {0: "batch", 1: "tokens"} for name in ("input_ids", "attention_mask", "last_hidden_state")}
    fp32 = dest / (ONNX_FILE if precision == "fp32" else "fp32.onnx")
    with warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter("ignore")  # the tracing exporter's notes on constant shapes
        torch.onnx.export(
            HiddenStates(),
            (ids, torch.ones_like(ids)),
            str(fp32),
            input_names=["input_ids", "attention_mask"],
            output_names=["last_hidden_state"],
            dynamic_axes=axes,
            opset_version=_OPSET,
            dynamo=False,
        )
    if precision == "int8":
        from onnxruntime.quantization import QuantType, quantize_dynamic

        quantize_dynamic(str(fp32), str(dest / ONNX_FILE), per_channel=True, weight_type=QuantType.QInt8)
        fp32.unlink()


if __name__ == "__main__":
    export_onnx(Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3])
