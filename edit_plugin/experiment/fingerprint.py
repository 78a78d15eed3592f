"""Fingerprints of an experiment's stages that do not depend on where its
folders lie.

A stage's config names absolute paths (its data, its output, the model it
starts from). Hashed as they are, a results folder committed on one machine
would not resume under another --out or checkout. Each path under a known
root is hashed as a placeholder plus its path below that root; a file's
content is hashed separately (``file_digest``), so a changed file still
changes the fingerprint.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping


def digest(payload) -> str:
    return hashlib.sha256(json.dumps(payload, sort_keys=True, default=str).encode()).hexdigest()[:16]


def relocated(payload, roots: Mapping[str, str]):
    """``payload`` with every string that is a root, or a path below one,
    written from that root's placeholder instead. The deepest root wins
    (a data folder inside the work folder keeps its own placeholder)."""
    ordered = sorted(((root.rstrip("/"), name) for root, name in roots.items() if root), key=lambda r: -len(r[0]))

    def walk(value):
        if isinstance(value, str):
            for root, name in ordered:
                if value == root or value.startswith(root + "/"):
                    return name + value[len(root):]
            return value
        if isinstance(value, Mapping):
            return {key: walk(item) for key, item in value.items()}
        if isinstance(value, (list, tuple)):
            return [walk(item) for item in value]
        return value

    return walk(payload)
