"""A standardized logistic regression with a decision threshold, stored as plain JSON numbers."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from qa.errors import InputError


@dataclass(frozen=True)
class LogisticModel:
    """P(positive) = sigmoid(((x[columns] - mean) / scale) @ coef + intercept); ``threshold`` on that probability.

    ``columns`` name the features it reads, as positions in ``names`` (the full feature vector's names).
    """

    mean: np.ndarray
    scale: np.ndarray
    coef: np.ndarray
    intercept: float
    threshold: float
    columns: tuple[str, ...]

    def probability(self, features: np.ndarray, names: Sequence[str]) -> float:
        """P(positive) of one feature vector laid out as ``names``."""
        used = features[[names.index(c) for c in self.columns]]
        z = float(((used - self.mean) / self.scale) @ self.coef) + self.intercept
        return float(1.0 / (1.0 + np.exp(-z)))

    def to_dict(self) -> dict[str, Any]:
        """The model as JSON-ready fields (six decimals per number)."""
        fields = {"features": list(self.columns), "intercept": self.intercept, "threshold": self.threshold}
        return fields | {k: [round(float(v), 6) for v in getattr(self, k)] for k in ("mean", "scale", "coef")}

    @classmethod
    def from_dict(cls, data: Any, names: Sequence[str], source: object) -> LogisticModel:
        """The model of :meth:`to_dict`'s fields; InputError when it reads features not in ``names``."""
        try:
            columns = tuple(data["features"])
            arrays = {k: np.array(data[k], dtype=np.float32) for k in ("mean", "scale", "coef")}
            intercept, threshold = float(data["intercept"]), float(data["threshold"])
        except (KeyError, TypeError, ValueError):
            raise InputError(f"{source}: not a logistic model file; retrain it") from None
        if not columns or not set(columns) <= set(names) or any(len(a) != len(columns) for a in arrays.values()):
            raise InputError(f"{source}: answerability model built for other features; retrain it")
        return cls(**arrays, intercept=intercept, threshold=threshold, columns=columns)
