"""Predictions of a LightGBM model through LightGBM's C library, without its Python package.

``import lightgbm`` pulls in scikit-learn, SciPy, pandas and pyarrow when they are installed
(about 160 MB of a server's memory); scoring needs none of them. :class:`NativeBooster` loads
``lib_lightgbm.so`` from the installed package's folder (found without importing it) and calls
the public C API (``LGBM_BoosterLoadModelFromString``, ``LGBM_BoosterPredictForMat``), so its
scores are LightGBM's own. Where the library cannot be found or loaded, :func:`load_booster`
falls back to ``lightgbm.Booster``.
"""

from __future__ import annotations

import ctypes
import importlib.util
from pathlib import Path
from typing import Any

import numpy as np

_FLOAT64, _ROW_MAJOR, _RAW_SCORE = 1, 1, 1


def _library() -> ctypes.CDLL | None:
    """LightGBM's C library from the installed ``lightgbm`` package, or None."""
    spec = importlib.util.find_spec("lightgbm")
    for folder in (spec.submodule_search_locations or []) if spec else []:
        for path in (Path(folder) / "lib" / "lib_lightgbm.so", Path(folder) / "lib_lightgbm.so"):
            if path.is_file():
                try:
                    lib = ctypes.CDLL(str(path))
                except OSError:
                    return None
                lib.LGBM_GetLastError.restype = ctypes.c_char_p
                return lib
    return None


class NativeBooster:
    """A LightGBM model loaded from its text in the C library; ``predict`` gives raw scores."""

    def __init__(self, lib: ctypes.CDLL, model_text: str) -> None:
        self._lib, self._handle = lib, ctypes.c_void_p()
        iterations = ctypes.c_int()
        loaded = lib.LGBM_BoosterLoadModelFromString(
            model_text.encode(), ctypes.byref(iterations), ctypes.byref(self._handle)
        )
        self._check(loaded)
        features = ctypes.c_int()
        self._check(lib.LGBM_BoosterGetNumFeature(self._handle, ctypes.byref(features)))
        self.num_features = features.value
        header = model_text.split("\nTree=", 1)[0].splitlines()
        names = next((line.partition("=")[2] for line in header if line.startswith("feature_names=")), "")
        self.names = tuple(names.split())

    def _check(self, code: int) -> None:
        if code != 0:
            raise ValueError(f"LightGBM: {self._lib.LGBM_GetLastError().decode(errors='replace')}")

    def feature_name(self) -> list[str]:
        """The model's feature names, in column order."""
        return list(self.names)

    def predict(self, features: np.ndarray, num_threads: int = 1) -> np.ndarray:
        """Raw scores of the rows of a ``(n, num_features)`` matrix."""
        x = np.ascontiguousarray(features, dtype=np.float64).reshape(len(features), self.num_features)
        out, length = np.zeros(len(x), dtype=np.float64), ctypes.c_int64()
        self._check(
            self._lib.LGBM_BoosterPredictForMat(
                self._handle,
                x.ctypes.data_as(ctypes.c_void_p),
                ctypes.c_int(_FLOAT64),
                ctypes.c_int32(len(x)),
                ctypes.c_int32(self.num_features),
                ctypes.c_int(_ROW_MAJOR),
                ctypes.c_int(_RAW_SCORE),
                ctypes.c_int(0),
                ctypes.c_int(-1),
                f"num_threads={num_threads}".encode(),
                ctypes.byref(length),
                out.ctypes.data_as(ctypes.POINTER(ctypes.c_double)),
            )
        )
        return out[: length.value]

    def __del__(self) -> None:
        if getattr(self, "_handle", None) and self._handle.value:
            self._lib.LGBM_BoosterFree(self._handle)


def load_booster(model_text: str) -> Any:
    """A model with ``feature_name()`` and ``predict(x, num_threads=1)``: native when possible."""
    lib = _library()
    if lib is not None:
        return NativeBooster(lib, model_text)
    import lightgbm

    return lightgbm.Booster(model_str=model_text)
