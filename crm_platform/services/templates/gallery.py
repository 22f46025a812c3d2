"""The shipped templates as the gallery shows them: each one's manifest, what it holds
(forms and their fields, flows, automation rules, roles, views, sample records) and the
apps of this tenant installed from it."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from crm_platform.errors import NotFound
from crm_platform.models import App, TemplateInstall
from crm_platform.scoping import TenantScope
from templates_gallery.bundles import compose, shipped


def templates() -> dict[str, dict[str, Any]]:
    """Every shipped template by key, composed with the template it extends."""
    found = shipped()
    ordered = sorted(found.items(), key=lambda item: (   # what the others extend comes first
        item[1]["manifest"]["industry"] != "general", item[0]))
    return {key: compose(bundle, found.get(bundle["manifest"].get("extends", {}).get("key", "")))
            for key, bundle in ordered}


def template(key: str) -> dict[str, Any]:
    found = templates().get(key)
    if found is None:
        raise NotFound("template_not_found", resource="template", id=key)
    return found


def shipped_file(key: str) -> dict[str, Any]:
    """The bundle as shipped (not composed): what `loom template show --bundle` prints."""
    found = shipped().get(key)
    if found is None:
        raise NotFound("template_not_found", resource="template", id=key)
    return found


def summary(bundle: Mapping[str, Any]) -> dict[str, Any]:
    manifest = bundle["manifest"]
    samples = bundle.get("sample_data", {})
    return {"key": manifest["key"], "version": manifest["version"],
            "industry": manifest["industry"], "name": manifest["name"],
            "description": manifest["description"], "app": manifest["app"],
            "extends": _named(manifest.get("built_on") or manifest.get("extends")),
            "screenshots": manifest.get("screenshots", []),
            "counts": {"forms": len(bundle["forms"]), "flows": len(bundle.get("flows", [])),
                       "automations": len(bundle.get("automations", [])),
                       "views": len(bundle.get("views", [])),
                       "sample_records": sum(len(rows) for rows in samples.values())}}


def _named(base: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """The template a bundle is built on, with its name when it is shipped here."""
    if base is None:
        return None
    found = shipped().get(base["key"])
    return {**base, "name": found["manifest"]["name"] if found else base["key"]}


def contents(bundle: Mapping[str, Any]) -> dict[str, Any]:
    """What installing gives: forms with their fields, flows, rules, roles, views."""
    samples = bundle.get("sample_data", {})
    return {
        "forms": [{"key": form["key"], "label": form.get("label", form["key"]),
                   "records": len(samples.get(form["key"], [])),
                   "fields": [{"key": field["key"], "type": field["type"],
                               "label": field.get("label", field["key"])}
                              for field in form["fields"]]} for form in bundle["forms"]],
        "flows": [{"key": flow["key"], "form": flow["form"],
                   "label": flow.get("label", flow["key"]),
                   "steps": len(flow.get("nodes", []))} for flow in bundle.get("flows", [])],
        "automations": [{"key": rule["key"], "form": rule["form"],
                         "label": rule.get("label", rule["key"]),
                         "trigger": rule["trigger"]["on"]}
                        for rule in bundle.get("automations", [])],
        "roles": [{"key": role["key"], "name": role["name"]}
                  for role in bundle.get("roles", [])],
        "views": [{"form": view["form"], "name": view["name"], "kind": view["kind"]}
                  for view in bundle.get("views", [])]}


def installs(scope: TenantScope) -> list[tuple[App, TemplateInstall]]:
    """This tenant's apps installed from a template, with the version each is at."""
    return [tuple(row) for row in scope.session.execute(scope.filter(
        scope.select(App).join(TemplateInstall, (TemplateInstall.app_id == App.id)
                               & (TemplateInstall.tenant_id == App.tenant_id))
        .add_columns(TemplateInstall).order_by(App.id), TemplateInstall))]
