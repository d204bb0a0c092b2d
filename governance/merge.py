"""Overlaying configuration: the one deep merge that policy layers and platform profiles share."""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any


def deep_merged(base: Mapping[str, Any], overlay: Mapping[str, Any]) -> dict[str, Any]:
    """A new mapping: ``base`` with ``overlay`` on top, objects merged key by key.

    Neither input is changed; values taken from either are deep copies, so the result can be
    modified freely. A non-object value in ``overlay`` replaces whatever ``base`` had.
    """
    out = {key: copy.deepcopy(value) for key, value in base.items()}
    for key, value in overlay.items():
        if isinstance(value, Mapping) and isinstance(out.get(key), Mapping):
            out[key] = deep_merged(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out
