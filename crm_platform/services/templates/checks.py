"""Checking a bundle before anything is installed: a bundle file from another Loom is
untrusted input. Its shape is checked by the meta-schema; then every form by the form
engine (fields, expressions, patterns — the same checks as a save), every flow and rule by
the workflow engine against its form's fields, and every reference inside the bundle (a
permission's role and form, a view's form, a sample record's form, `$ref` and owner role).
All problems are reported together, each with its path (`forms.customer.fields[2].options`)
and a message in the caller's language; installing then runs every piece through the same
services as building by hand, which check again.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from crm_platform.errors import BadRequest, ConfigError, FieldError, ValidationFailed, engine_fields
from crm_platform.schema_checks import check_against
from crm_platform.services.flows.definitions import CHECKERS
from crm_platform.services.identity.roles import SYSTEM_ROLES
from crm_platform.services.storage.filters import related_filter_errors
from form_engine.checks import check_definition
from form_engine.compiled import CompiledForm
from form_engine.compiler import compile_form
from form_engine.field_types import TypeEnv
from templates_gallery.bundles import (
    BundleUnreadable,
    compose,
    normalised,
    read_bundle,
    shipped,
    too_deep,
)
from templates_gallery.schema import BUNDLE_SCHEMA, MAX_DEPTH, MAX_SAMPLE_RECORDS
from workflow_engine.automations import check_automation, value_types

MARKERS = ("$ref", "$days", "$hours")


def parsed(raw: bytes) -> Any:
    """A bundle file's document; 400 naming why it is not one."""
    try:
        return read_bundle(raw)
    except BundleUnreadable as exc:
        raise BadRequest(f"bundle_{exc.code}", detail=exc.detail) from exc


def checked_bundle(document: Any, locale: str, env: TypeEnv | None = None) -> dict[str, Any]:
    """The bundle composed with the template it extends, every part checked; raises
    ValidationFailed listing every problem."""
    deep = too_deep(document)
    if deep is not None:
        raise ValidationFailed(fields=[FieldError(deep, "bundle_too_deep",
                                                  {"limit": MAX_DEPTH})], count=1)
    check_against(BUNDLE_SCHEMA, document)
    bundle = compose(document, _extended(document))
    check_composed(bundle, locale, env)
    return normalised(bundle)   # after the checks: their paths are the file's


def check_composed(bundle: Mapping[str, Any], locale: str, env: TypeEnv | None = None) -> None:
    """Every problem of an already composed bundle (an upgrade's merge), raised together."""
    problems = list(_problems(bundle, locale, env or TypeEnv()))
    if problems:
        raise ValidationFailed(fields=problems, count=len(problems))


def _extended(document: Mapping[str, Any]) -> dict[str, Any] | None:
    wanted = document["manifest"].get("extends")
    if wanted is None:
        return None
    found = shipped().get(wanted["key"])
    if found is None or _major(found["manifest"]["version"]) != _major(wanted["version"]):
        raise ValidationFailed(fields=[FieldError("manifest.extends", "template_missing", {
            "value": f"{wanted['key']} {wanted['version']}"})], count=1)
    if found["manifest"].get("extends"):
        raise ConfigError(f"shipped template {wanted['key']} extends another")
    return found


def _major(version: str) -> str:
    return version.split(".", 1)[0]


def _where(part: str, index: int, item: Any) -> str:
    key = item.get("key") if isinstance(item, Mapping) else None
    return f"{part}.{key}" if isinstance(key, str) else f"{part}[{index}]"


def _twice(part: str, items: list[Any]) -> Iterator[FieldError]:
    seen: set[str] = set()
    for index, item in enumerate(items):
        if item["key"] in seen:
            yield FieldError(f"{part}[{index}].key", "taken", {"value": item["key"]})
        seen.add(item["key"])


def _problems(bundle: Mapping[str, Any], locale: str, env: TypeEnv) -> Iterator[FieldError]:
    forms = bundle["forms"]
    yield from _twice("forms", forms)
    yield from _twice("roles", bundle.get("roles", []))
    yield from _twice("flows", [*bundle.get("flows", []), *bundle.get("automations", [])])
    form_keys = {form["key"] for form in forms}
    roles = set(SYSTEM_ROLES) | {role["key"] for role in bundle.get("roles", [])}
    fields: dict[str, dict[str, str]] = {}
    values: dict[str, dict[str, str]] = {}     # what each field's value is (a date …)
    compiled_forms: dict[str, CompiledForm] = {}
    for index, form in enumerate(forms):
        where = _where("forms", index, form)
        problems = check_definition(form, known_forms=form_keys, env=env)
        if problems:
            yield from engine_fields(problems, locale, where)
            continue
        compiled = compiled_forms[form["key"]] = compile_form(form, env=env, checked=True)
        fields[form["key"]] = {item.key: item.type for item in compiled.fields}
        values[form["key"]] = value_types(compiled.fields)
    for index, form in enumerate(forms):
        yield from related_filter_errors(form, compiled_forms.get,
                                         f"{_where('forms', index, form)}.")
    for part, kind in (("flows", "approval"), ("automations", "automation")):
        for index, flow in enumerate(bundle.get(part, [])):
            where = _where(part, index, flow)
            if flow.get("form") not in form_keys:
                yield FieldError(f"{where}.form", "no_such_reference",
                                 {"resource": "form", "value": flow.get("form")})
            elif flow["form"] in fields:
                problems = check_automation(flow, fields[flow["form"]], values[flow["form"]]) \
                    if kind == "automation" else CHECKERS[kind](flow, fields[flow["form"]])
                yield from engine_fields(problems, locale, where)
            yield from _role_problems(flow, roles, where)
    for form, items in bundle.get("permissions", {}).items():
        if form not in form_keys:
            yield FieldError(f"permissions.{form}", "no_such_reference",
                             {"resource": "form", "value": form})
            continue
        for index, item in enumerate(items):
            if item["role"] not in roles:
                yield FieldError(f"permissions.{form}[{index}].role", "no_such_reference",
                                 {"resource": "role", "value": item["role"]})
            for option in ("hidden_fields", "readonly_fields"):
                for key in item.get(option, []):
                    if form in fields and key not in fields[form]:
                        yield FieldError(f"permissions.{form}[{index}].{option}",
                                         "unknown_filter_field", {"value": key})
    for index, view in enumerate(bundle.get("views", [])):
        if view["form"] not in form_keys:
            yield FieldError(f"views[{index}].form", "no_such_reference",
                             {"resource": "form", "value": view["form"]})
        for role in view.get("roles", []):
            if role not in roles:
                yield FieldError(f"views[{index}].roles", "no_such_reference",
                                 {"resource": "role", "value": role})
    yield from _sample_problems(bundle.get("sample_data", {}),
                                [form["key"] for form in forms], roles)


def _role_problems(flow: Mapping[str, Any], roles: set[str], where: str
                   ) -> Iterator[FieldError]:
    for role in sorted(set(named_roles(flow)) - roles):
        yield FieldError(where, "no_such_reference", {"resource": "role", "value": role})


def named_roles(value: Any) -> Iterator[str]:
    """Role keys a flow or rule names: `{"role": "…"}` and `{"roles": [...]}`, anywhere."""
    if isinstance(value, Mapping):
        for name, item in value.items():
            if name == "role" and isinstance(item, str):
                yield item
            elif name == "roles" and isinstance(item, list):
                yield from (role for role in item if isinstance(role, str))
            else:
                yield from named_roles(item)
    elif isinstance(value, list):
        for item in value:
            yield from named_roles(item)


def _sample_problems(samples: Mapping[str, Any], form_keys: list[str], roles: set[str]
                     ) -> Iterator[FieldError]:
    """Each sample record's form, ref, owner role and markers. A `$ref` must name a record
    made before it: records are made form by form in the order of `forms`, row by row."""
    for form in samples:
        if form not in form_keys:
            yield FieldError(f"sample_data.{form}", "no_such_reference",
                             {"resource": "form", "value": form})
    if sum(len(rows) for rows in samples.values()) > MAX_SAMPLE_RECORDS:
        yield FieldError("sample_data", "too_many_items", {"limit": MAX_SAMPLE_RECORDS})
        return
    refs: set[str] = set()
    for form in form_keys:
        for index, row in enumerate(samples.get(form, [])):
            where = f"sample_data.{form}[{index}]"
            if row.get("owner_role") is not None and row["owner_role"] not in roles:
                yield FieldError(f"{where}.owner_role", "no_such_reference",
                                 {"resource": "role", "value": row["owner_role"]})
            for path, value in _values(row["data"], f"{where}.data"):
                if isinstance(value, Mapping) and len(value) == 1 and next(
                        iter(value)) in MARKERS:
                    found = marker(value)
                    if found is None:
                        yield FieldError(path, "invalid", {})
                    elif found[0] == "$ref" and found[1] not in refs:
                        yield FieldError(path, "sample_ref_not_before", {"value": found[1]})
            if "ref" in row:
                if row["ref"] in refs:
                    yield FieldError(f"{where}.ref", "taken", {"value": row["ref"]})
                refs.add(row["ref"])


def _values(data: Mapping[str, Any], path: str) -> Iterator[tuple[str, Any]]:
    """Each value of a sample record with its path, the cells of subtable rows included."""
    for name, value in data.items():
        if isinstance(value, list):
            for number, row in enumerate(value):
                if isinstance(row, Mapping):
                    for column, cell in row.items():
                        yield f"{path}.{name}[{number}].{column}", cell
        else:
            yield f"{path}.{name}", value


def marker(value: Any) -> tuple[str, Any] | None:
    """(`$ref`, "c001") for `{"$ref": "c001"}`, (`$days`, -3) for `{"$days": -3}`; None for
    a plain value, and for a marker of the wrong kind (the checks name it)."""
    if isinstance(value, Mapping) and len(value) == 1:
        [(name, target)] = value.items()
        if name == "$ref" and isinstance(target, str):
            return name, target
        if name in ("$days", "$hours") and isinstance(target, int) and not isinstance(
                target, bool) and abs(target) <= 36_500 * (24 if name == "$hours" else 1):
            return name, target
    return None
