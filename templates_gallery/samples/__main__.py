"""Rewrite the `sample_data` of every shipped bundle from its generator (fixed seed):

    python -m templates_gallery.samples
"""

from __future__ import annotations

import importlib
import random

from templates_gallery.bundles import BUNDLES_DIR, read_bundle, write_bundle

SEED = 2026


def main() -> None:
    for path in sorted(BUNDLES_DIR.glob("*.json")):
        bundle = read_bundle(path.read_bytes(), str(path))
        key = bundle["manifest"]["key"]
        try:
            module = importlib.import_module(f"templates_gallery.samples.{key}")
        except ModuleNotFoundError:
            continue
        bundle["sample_data"] = module.records(random.Random(f"{SEED}:{key}"))
        write_bundle(path, bundle)
        counts = {form: len(rows) for form, rows in bundle["sample_data"].items()}
        print(f"{path.name}: {counts}")


if __name__ == "__main__":
    main()
