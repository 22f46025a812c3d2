"""Versions: what publishing a new definition changes, whether it breaks existing records,
and how a stored record is upgraded from one version to the next.

`plan_publish(old, new, stats, migrations)` compares two definitions and, given counts about
existing records (`RecordStats`, supplied by the platform), says what the change does to
them. A change that would leave records invalid — a removed field that holds data, a type
change, a newly required field some records lack, a removed option some records use — is
*breaking*: it is refused unless `migrations` says how to handle it, per field key:

- `{"drop": true}`: yes, discard the removed field's values (history keeps them);
- `{"default": value}`: fill records that lack a value (or whose value cannot be kept);
- `{"convert": true}`: re-read old values as typed input in the new type;
- `{"map": {"old": "new", ...}}`: rename removed options.

`upgrade(data, old_form, new_form, migrations)` applies exactly that to one record.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time
from decimal import Decimal
from typing import Any, Protocol

from form_engine.compiled import CompiledForm
from form_engine.errors import BreakingChange, CoercionError, Problem
from form_engine.field_types import FIELD_TYPES

_COMPARED_OPTIONS = ("min", "max", "precision", "kind", "max_length", "min_length", "pattern",
                     "currency", "region", "min_items", "max_items", "form", "expression",
                     "result", "required_if", "visible_if", "readonly_if", "unique", "indexed",
                     "read_only", "default", "default_expression", "max_rows", "min_rows")


class RecordStats(Protocol):
    """Counts over the existing records of a form (the platform answers from the database)."""

    def total(self) -> int: ...

    def with_value(self, key: str) -> int: ...

    def with_option(self, key: str, values: Iterable[str]) -> int: ...
    def sharing(self, key: str) -> int: ...


@dataclass
class Diff:
    added: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    retyped: list[dict[str, str]] = field(default_factory=list)
    newly_required: list[str] = field(default_factory=list)
    newly_unique: list[str] = field(default_factory=list)
    options_removed: list[dict[str, Any]] = field(default_factory=list)
    options_added: list[dict[str, Any]] = field(default_factory=list)
    changed: list[dict[str, Any]] = field(default_factory=list)
    relabelled: list[str] = field(default_factory=list)
    rules_changed: bool = False
    layout_changed: bool = False

    def as_dict(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in (
            "added", "removed", "retyped", "newly_required", "newly_unique", "options_removed",
            "options_added", "changed", "relabelled", "rules_changed", "layout_changed")}


@dataclass
class PublishPlan:
    diff: Diff
    impact: dict[str, Any]
    problems: list[Problem]

    @property
    def breaking(self) -> bool:
        return bool(self.problems)


def _fields(definition: Mapping[str, Any]) -> dict[str, Mapping[str, Any]]:
    return {spec["key"]: spec for spec in definition.get("fields", [])}


def _options(spec: Mapping[str, Any]) -> list[str]:
    return [option["value"] for option in spec.get("options", [])]


def diff_definitions(old: Mapping[str, Any], new: Mapping[str, Any]) -> Diff:
    """Field-level differences between two definitions (by stable field key)."""
    before, after = _fields(old), _fields(new)
    diff = Diff(added=[key for key in after if key not in before],
                removed=[key for key in before if key not in after])
    for key, spec in after.items():
        previous = before.get(key)
        if previous is None:
            continue
        if previous["type"] != spec["type"]:
            diff.retyped.append({"key": key, "old": previous["type"], "new": spec["type"]})
            continue
        if spec.get("required") and not previous.get("required"):
            diff.newly_required.append(key)
        if spec.get("unique") and not previous.get("unique"):
            diff.newly_unique.append(key)
        gone = [value for value in _options(previous) if value not in _options(spec)]
        new_options = [value for value in _options(spec) if value not in _options(previous)]
        if gone:
            diff.options_removed.append({"key": key, "values": gone})
        if new_options:
            diff.options_added.append({"key": key, "values": new_options})
        changed = [name for name in _COMPARED_OPTIONS if previous.get(name) != spec.get(name)]
        if spec.get("fields") != previous.get("fields") and spec["type"] == "subtable":
            changed.append("fields")
        if changed:
            diff.changed.append({"key": key, "options": changed})
        if previous.get("label") != spec.get("label"):
            diff.relabelled.append(key)
    diff.rules_changed = old.get("rules") != new.get("rules")
    diff.layout_changed = old.get("layout") != new.get("layout")
    return diff


def _stores_value(spec: Mapping[str, Any]) -> bool:
    return FIELD_TYPES[spec["type"]].kind == "value" or spec["type"] == "subtable"


def plan_publish(old: Mapping[str, Any] | None, new: Mapping[str, Any],
                 stats: RecordStats | None = None,
                 migrations: Mapping[str, Mapping[str, Any]] | None = None) -> PublishPlan:
    """The diff, its impact on existing records, and the breaking changes left unhandled."""
    migrations = migrations or {}
    diff = diff_definitions(old or {"fields": []}, new)
    total = stats.total() if stats else 0
    impact: dict[str, Any] = {"records": total, "fields": {}}
    problems: list[Problem] = []
    if old is None or total == 0:
        return PublishPlan(diff, impact, problems)
    assert stats is not None
    before = _fields(old)

    def note(key: str, **facts: Any) -> None:
        impact["fields"].setdefault(key, {}).update(facts)

    for key in diff.removed:
        if not _stores_value(before[key]):
            continue
        count = stats.with_value(key)
        note(key, removed=True, with_value=count)
        if count and not migrations.get(key, {}).get("drop"):
            problems.append(Problem(f"migrations.{key}", "field_removed",
                                    {"key": key, "count": count}))
    for change in diff.retyped:
        key = change["key"]
        count = stats.with_value(key) if _stores_value(before[key]) else 0
        note(key, retyped=f"{change['old']} → {change['new']}", with_value=count)
        migration = migrations.get(key, {})
        if count and not (migration.get("convert") or "default" in migration
                          or migration.get("drop")):
            problems.append(Problem(f"migrations.{key}", "field_retyped", change))
    for key in diff.newly_required:
        missing = total - stats.with_value(key)
        note(key, newly_required=True, missing=missing)
        if missing and "default" not in migrations.get(key, {}):
            problems.append(Problem(f"migrations.{key}", "newly_required", {"key": key}))
    for change in diff.options_removed:
        key, values = change["key"], change["values"]
        count = stats.with_option(key, values)
        note(key, options_removed=values, using_removed=count)
        migration = migrations.get(key, {})
        mapped = set(migration.get("map", {}))
        if count and not (set(values) <= mapped or "default" in migration):
            problems.append(Problem(f"migrations.{key}", "options_removed",
                                    {"key": key, "values": ", ".join(values)}))
    for key in diff.newly_unique:
        shared = stats.sharing(key)
        note(key, newly_unique=True, sharing=shared)
        if shared:   # no migration answers this: the records must differ first
            problems.append(Problem(f"migrations.{key}", "newly_unique",
                                    {"key": key, "count": shared}))
    return PublishPlan(diff, impact, problems)


def require_publishable(plan: PublishPlan) -> PublishPlan:
    if plan.problems:
        raise BreakingChange(plan.problems)
    return plan


def _as_text(value: Any) -> Any:
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, date | datetime | time):
        return value.isoformat()
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list):
        return ", ".join(str(item) for item in value)
    return value


def upgrade(data: Mapping[str, Any], old_form: CompiledForm, new_form: CompiledForm,
            migrations: Mapping[str, Mapping[str, Any]] | None = None) -> dict[str, Any]:
    """One record's input data, moved from `old_form`'s version to `new_form`'s.

    Computed fields are left out (validation recomputes them); values that cannot be kept
    take the migration's default or stay blank — `plan_publish` has said how many.
    """
    migrations = migrations or {}
    result: dict[str, Any] = {}
    for item in new_form.inputs:
        key = item.key
        migration = migrations.get(key, {})
        previous = old_form.by_key.get(key)
        value = data.get(key)
        if previous is not None and previous.type != item.type and value is not None:
            value = _convert(item, value) if migration.get("convert") else None
        if "map" in migration and isinstance(value, str):
            value = migration["map"].get(value, value)
        if "map" in migration and isinstance(value, list):
            value = [migration["map"].get(entry, entry) for entry in value]
        if item.type in ("select", "multiselect") and value is not None:
            allowed = set(_options(item.spec))
            if isinstance(value, list):
                value = [entry for entry in value if entry in allowed] or None
            elif value not in allowed:
                value = None
        if value is None and "default" in migration:
            value = migration["default"]
        if value is not None or key in data:
            result[key] = value
    return result


def _convert(item: Any, value: Any) -> Any:
    try:
        return item.lenient(_as_text(value))
    except CoercionError:
        return None
