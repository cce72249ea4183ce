"""Classifier hook: plug in a scorer for previously unseen material.

An operator supplies a classifier (a local model of their own, or a client for a vetted service
such as Google's Content Safety API or Thorn's Safer) as any object with this shape:

    class MyClassifier:
        name = "my-model"
        version = "2026-01"
        def score(self, rgb: numpy.ndarray, info: dict) -> float: ...   # 0.0 .. 1.0

and names its factory in the `classifier` setting (NETWARDEN_CLASSIFIER="package.module:factory",
called with no arguments). The ingest hook (given its face's settings) then scores every decodable
image that no bank matched and stores a `media_classifier` signal (weight = score, detail =
classifier name, version, score, threshold) when the score reaches `classifier_threshold`
(NETWARDEN_CLASSIFIER_THRESHOLD, default 0.8). Netwarden ships no model:
only `PixelPropertyDouble`, a test double that scores the abstract generated stand-in images by a
property of their pixels.
"""

from __future__ import annotations

import importlib
from typing import Protocol, runtime_checkable

import numpy as np

from ..errors import UserError


@runtime_checkable
class Classifier(Protocol):
    name: str
    version: str

    def score(self, rgb: np.ndarray, info: dict) -> float: ...


class PixelPropertyDouble:
    """Test double: the share of strongly red pixels (R > 180, G < 90, B < 90).

    The demo world's stand-in images for flagged material are abstract shapes; tests make "flagged"
    ones mostly red and benign ones not, so this double separates them. It knows nothing else.
    """

    name = "pixel-property-double"
    version = "1"

    def score(self, rgb: np.ndarray, info: dict) -> float:
        if rgb.size == 0:
            return 0.0
        r, g, b = rgb[..., 0], rgb[..., 1], rgb[..., 2]
        return float(((r > 180) & (g < 90) & (b < 90)).mean())


def load_classifier(spec: str) -> Classifier | None:
    """The classifier named by `spec` (the `classifier` setting, "module:factory"), or None when empty."""
    if not spec:
        return None
    mod_name, _, attr = spec.partition(":")
    try:
        factory = getattr(importlib.import_module(mod_name), attr or "classifier")
        clf = factory()
    except (ImportError, AttributeError, TypeError) as e:
        raise UserError(f"NETWARDEN_CLASSIFIER={spec!r} cannot be loaded ({e}); give it as package.module:factory.") from None
    if not isinstance(clf, Classifier):
        raise UserError(f"NETWARDEN_CLASSIFIER={spec!r} made an object without name, version and score(rgb, info); see docs/media.md.")
    return clf

