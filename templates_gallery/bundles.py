"""The shipped bundles (`templates_gallery/bundles/<key>.json`), reading and writing bundle
files, and composing a template with the one it extends.

Numbers are read as `Decimal` (a threshold of 0.1 stays 0.1), as the API reads them.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Mapping
from decimal import Decimal
from pathlib import Path
from typing import Any

import simplejson

from templates_gallery.schema import MAX_BUNDLE_BYTES, MAX_DEPTH

BUNDLES_DIR = Path(__file__).parent / "bundles"
SCREENSHOTS_DIR = Path(__file__).parent / "screenshots"
LISTS = ("roles", "forms", "flows", "automations", "views", "reports", "dashboards")


class BundleUnreadable(ValueError):
    """Not a bundle file at all: too big, not UTF-8, not JSON. `code` names which."""

    def __init__(self, code: str, detail: str = "") -> None:
        super().__init__(f"{code}: {detail}" if detail else code)
        self.code, self.detail = code, detail


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def read_bundle(raw: bytes, source: str = "bundle") -> Any:
    """The parsed document (not yet checked against the meta-schema)."""
    if len(raw) > MAX_BUNDLE_BYTES:
        raise BundleUnreadable("too_large", f"{len(raw)} bytes")
    try:
        return json.loads(raw.decode("utf-8-sig"), parse_float=Decimal,
                          parse_constant=_no_constant)
    except UnicodeDecodeError as exc:
        raise BundleUnreadable("not_utf8", f"byte {exc.start}") from exc
    except json.JSONDecodeError as exc:
        raise BundleUnreadable("not_json", f"{exc.msg}, line {exc.lineno} column {exc.colno}"
                               ) from exc
    except (ValueError, RecursionError) as exc:
        raise BundleUnreadable("not_json", str(exc)[:200]) from exc


def too_deep(document: Any, limit: int = MAX_DEPTH) -> str | None:
    """Where `document` nests objects and lists deeper than `limit` (looked at without
    recursion: every later step may recurse), or None."""
    stack: list[tuple[Any, int, str]] = [(document, 0, "")]
    while stack:
        value, depth, path = stack.pop()
        if isinstance(value, dict | list):
            if depth >= limit:
                return path or "(the top)"
            items = value.items() if isinstance(value, dict) else enumerate(value)
            stack.extend((item, depth + 1, f"{path}.{key}" if isinstance(key, str) and path
                          else str(key) if isinstance(key, str) else f"{path}[{key}]")
                         for key, item in items)
    return None


def dump_bundle(bundle: Mapping[str, Any]) -> str:
    return simplejson.dumps(bundle, use_decimal=True, ensure_ascii=False, indent=1) + "\n"


def write_bundle(path: Path, bundle: Mapping[str, Any]) -> None:
    path.write_text(dump_bundle(bundle), encoding="utf-8")


def shipped() -> dict[str, dict[str, Any]]:
    """Every shipped bundle by key, as written (not composed)."""
    bundles = {}
    for path in sorted(BUNDLES_DIR.glob("*.json")):
        bundle = read_bundle(path.read_bytes(), path.name)
        bundles[bundle["manifest"]["key"]] = bundle
    return bundles


def compose(bundle: Mapping[str, Any], extended: Mapping[str, Any] | None) -> dict[str, Any]:
    """The bundle with the pieces of the template it extends: the app gets both (the
    extended template's first), under this bundle's manifest, whose `extends` becomes
    `built_on`. Keys used twice are left to the checks to name."""
    if extended is None:
        return copy.deepcopy(dict(bundle))
    manifest = copy.deepcopy(dict(bundle["manifest"]))
    manifest["built_on"] = {"key": extended["manifest"]["key"],
                            "version": extended["manifest"]["version"]}
    del manifest["extends"]   # composed once: installing it again adds nothing twice
    result: dict[str, Any] = {"format": bundle["format"], "manifest": manifest}
    for part in LISTS:
        items = [*extended.get(part, []), *bundle.get(part, [])]
        if items:
            result[part] = copy.deepcopy(items)
    for part in ("permissions", "sample_data"):
        merged: dict[str, list[Any]] = {}
        for source in (extended, bundle):
            for form, items in source.get(part, {}).items():
                merged.setdefault(form, []).extend(copy.deepcopy(items))
        if merged:
            result[part] = merged
    return result


def without_samples(bundle: Mapping[str, Any]) -> dict[str, Any]:
    return {name: value for name, value in bundle.items() if name != "sample_data"}


_PERMISSION_DEFAULTS = {"can_create": False, "read": "none", "update": "none",
                        "delete": "none", "pool": False, "hidden_fields": [],
                        "readonly_fields": []}


def normalised(bundle: Mapping[str, Any]) -> dict[str, Any]:
    """The bundle written one way, so an installed bundle and the app exported again
    compare equal: permissions without their default values and in role order, a view's
    `roles` only when it is shared with roles."""
    result = copy.deepcopy(dict(bundle))
    if "permissions" in result:
        result["permissions"] = {
            form: sorted(({name: value for name, value in item.items()
                           if _PERMISSION_DEFAULTS.get(name, object()) != value}
                          for item in items), key=lambda item: item["role"])
            for form, items in result["permissions"].items()}
        result["permissions"] = {form: items for form, items in
                                 result["permissions"].items() if items}
        if not result["permissions"]:
            del result["permissions"]
    for view in result.get("views", []):
        if view.get("visibility") != "roles":
            view.pop("roles", None)
        if view.get("visibility", "personal") == "personal":
            view["visibility"] = "everyone"   # a template's views are for everyone
    return result
