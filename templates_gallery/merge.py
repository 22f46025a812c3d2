"""Three-way merge of template bundles: base (the version installed), theirs (the new
version), mine (the tenant's app as it is now, exported as a bundle).

The merge walks the three documents together. Where two of them agree, the third's change
wins (only one side changed it). Where both sides changed the same thing differently:

- objects are merged key by key, so the tenant relabelling a field and the template
  changing the same field's maximum are both kept;
- lists of identified items — fields, rules, nodes, options, permissions by role, views by
  form and name, layout sections by their (English) title, or by position when they have
  none or share one — are merged item by item, and an item added on either side is placed
  after the item it follows there;
- lists of plain values (the keys in a layout section) are merged as ordered sets: what
  either side added is there, what either side removed is gone;
- anything else — the same property set to two values, an item one side deleted and the
  other changed — is a conflict: reported with its three values, and left as the tenant
  has it until a resolution says otherwise (`mine` or `theirs`, by the conflict's path).

The manifest is always theirs: the app is now at their version. Sample records are not
merged: they are installed once, and are the tenant's own data from then on.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

MINE, THEIRS = "mine", "theirs"
MERGED_PARTS = ("roles", "forms", "permissions", "flows", "automations", "views", "reports",
                "dashboards")


class _Missing:
    def __repr__(self) -> str:
        return "MISSING"


MISSING: Any = _Missing()   # not there (never there, or deleted)


@dataclass(frozen=True)
class Conflict:
    """Both sides changed `path` (`forms/customer/fields/level/label/en`), differently."""

    path: str
    base: Any
    mine: Any
    theirs: Any

    def as_dict(self) -> dict[str, Any]:
        def shown(value: Any) -> dict[str, Any]:
            return {"deleted": True} if value is MISSING else {"value": value}
        return {"path": self.path, "base": shown(self.base), "mine": shown(self.mine),
                "theirs": shown(self.theirs)}


@dataclass(frozen=True)
class Merged:
    bundle: dict[str, Any]
    conflicts: list[Conflict]


def merge_bundles(base: Mapping[str, Any], theirs: Mapping[str, Any], mine: Mapping[str, Any],
                  resolutions: Mapping[str, str] | None = None) -> Merged:
    """The merged bundle (conflicts left as mine unless resolved) and the conflicts that
    no resolution answers."""
    walk = _Walk(resolutions or {})
    merged: dict[str, Any] = {"format": theirs.get("format"),
                              "manifest": dict(theirs["manifest"])}
    for part in MERGED_PARTS:
        value = walk.merge(base.get(part, MISSING), theirs.get(part, MISSING),
                           mine.get(part, MISSING), (part,))
        if value is not MISSING:
            merged[part] = value
    return Merged(merged, walk.conflicts)


class _Walk:
    def __init__(self, resolutions: Mapping[str, str]) -> None:
        self.resolutions = resolutions
        self.conflicts: list[Conflict] = []

    def merge(self, base: Any, theirs: Any, mine: Any, path: tuple[str, ...]) -> Any:
        if theirs == mine:
            return mine
        if base == mine:
            return theirs
        if base == theirs:
            return mine
        if isinstance(theirs, Mapping) and isinstance(mine, Mapping) and (
                base is MISSING or isinstance(base, Mapping)):
            return self._objects({} if base is MISSING else base, theirs, mine, path)
        if isinstance(theirs, list) and isinstance(mine, list) and (
                base is MISSING or isinstance(base, list)):
            old = [] if base is MISSING else base
            identity = _identity(path, old, theirs, mine)
            if identity is not None:
                return self._items(old, theirs, mine, identity, path)
            if _plain_unique(old) and _plain_unique(theirs) and _plain_unique(mine):
                return _ordered_sets(old, theirs, mine)
        return self._conflict(base, theirs, mine, path)

    def _conflict(self, base: Any, theirs: Any, mine: Any, path: tuple[str, ...]) -> Any:
        where = "/".join(path)
        choice = self.resolutions.get(where)
        if choice == THEIRS:
            return theirs
        if choice != MINE:
            self.conflicts.append(Conflict(where, base, mine, theirs))
        return mine

    def _objects(self, base: Mapping[str, Any], theirs: Mapping[str, Any],
                 mine: Mapping[str, Any], path: tuple[str, ...]) -> dict[str, Any]:
        result = {}
        for key in _placed(list(base), list(theirs), list(mine)):
            value = self.merge(base.get(key, MISSING), theirs.get(key, MISSING),
                               mine.get(key, MISSING), (*path, str(key)))
            if value is not MISSING:
                result[key] = value
        return result

    def _items(self, base: list[Any], theirs: list[Any], mine: list[Any],
               identity: Callable[[int, Any], str], path: tuple[str, ...]) -> list[Any]:
        def by_id(items: list[Any]) -> dict[str, Any]:
            return {identity(index, item): item for index, item in enumerate(items)}
        old, new, own = by_id(base), by_id(theirs), by_id(mine)
        result = []
        for key in _placed(list(old), list(new), list(own)):
            if len(path) == 1 and key not in new and key in own:
                result.append(own[key])   # a form, flow or view the new version dropped
                continue                  # stays while the tenant has it
            value = self.merge(old.get(key, MISSING), new.get(key, MISSING),
                               own.get(key, MISSING), (*path, key))
            if value is not MISSING:
                result.append(value)
        return result


def _identity(path: tuple[str, ...], *sides: list[Any]) -> Callable[[int, Any], str] | None:
    """How the items of a list are told apart, or None when they are not (a list of
    approvers, of branches, a filter's conditions: merged whole). An identity must be
    unique within each side, or two items would be taken for one."""
    items = [item for side in sides for item in side]
    if not items or not all(isinstance(item, Mapping) for item in items):
        return None
    candidates: list[Callable[[int, Any], str]] = [
        lambda _index, item, name=name: item[name] for name in ("key", "value", "role")
        if all(isinstance(item.get(name), str) for item in items)]
    if path[-1] == "views" and all("form" in item and "name" in item for item in items):
        candidates.append(lambda _index, item: f"{item['form']}:{view_name(item['name'])}")
    if path[-1] == "layout":   # a section by its title; untitled or repeated: its place
        if all(item.get("section") for item in items):
            candidates.append(lambda _index, item: f"section:{view_name(item['section'])}")
        candidates.append(lambda index, _item: str(index + 1))
    for identity in candidates:
        if all(len({identity(index, item) for index, item in enumerate(side)}) == len(side)
               for side in sides):
            return identity
    return None


def view_name(name: Any) -> str:
    """A view's one name for telling views apart: its English name, else its first."""
    return str(name.get("en") or next(iter(name.values()), "")) if isinstance(
        name, Mapping) else str(name)


def _plain_unique(items: list[Any]) -> bool:
    return all(isinstance(item, str | int) and not isinstance(item, bool)
               for item in items) and len(set(items)) == len(items)


def _ordered_sets(base: list[Any], theirs: list[Any], mine: list[Any]) -> list[Any]:
    """What both kept, and what either added; in mine's order, theirs' additions placed
    after what they follow in theirs."""
    kept_theirs, kept_mine = set(theirs), set(mine)
    gone = {item for item in base if item not in kept_theirs or item not in kept_mine}
    return [item for item in _placed(base, theirs, mine) if item not in gone]


def _placed(base: list[Any], theirs: list[Any], mine: list[Any]) -> list[Any]:
    """Every item of the three lists once: mine's order, then each item only theirs has
    after its predecessor in theirs, then each item only base has (deleted by mine; the
    merge decides whether it stays) after its predecessor in base. Linear: each item is
    hung after an anchor, and the anchors are read out in order."""
    placed = set(mine)
    after: dict[Any, list[Any]] = {}
    first: list[Any] = []
    for source in (theirs, base):
        previous = None
        for item in source:
            if item not in placed:
                (after.setdefault(previous, []) if previous is not None else first
                 ).append(item)
                placed.add(item)
            previous = item
    order: list[Any] = []

    def out(item: Any) -> None:
        stack = [item]
        while stack:
            current = stack.pop()
            order.append(current)
            stack.extend(reversed(after.pop(current, [])))
    for item in [*first, *mine]:
        out(item)
    for anchor in list(after):   # anchored on an item never placed (cannot happen)
        for item in after.pop(anchor, []):
            out(item)
    return order
