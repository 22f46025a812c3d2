"""`loom template …`: the gallery from the command line — list, show, check, install,
export and upgrade — through the same services as the API and the gallery page, as the
tenant's administrator."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import click

from crm_platform.auth.principal import Principal
from crm_platform.errors import LoomError, NotFound
from crm_platform.scoping import TenantScope

TEXT_KINDS = {"mine", "theirs"}


def _load(source: str) -> Any:
    """A shipped template's key, or a bundle file's path."""
    from crm_platform.services.templates import gallery
    from crm_platform.services.templates.checks import parsed

    path = Path(source)
    if path.is_file():
        return parsed(path.read_bytes())
    return gallery.template(source)


@contextmanager
def _tenant(database_url: str | None, slug: str) -> Iterator[tuple[TenantScope, Principal]]:
    """The tenant's scope in one transaction of an application (publishing queues jobs)."""
    from crm_platform import create_app
    from crm_platform.cli import _describe, _settings, secret_key_for
    from crm_platform.config import Settings
    from crm_platform.db import database, write_first
    from crm_platform.jobs import wait_for_jobs
    from crm_platform.services.identity.tenants import tenant_by_slug

    settings = _settings(database_url)
    app = create_app(Settings.from_env(database_url=settings.database_url,
                                       secret_key=secret_key_for(settings)))
    with app.app_context():
        try:
            with database(app).transaction() as session:
                write_first(session)
                tenant = tenant_by_slug(session, slug)
                if tenant is None:
                    raise NotFound("resource_not_found", resource="tenant", id=slug)
                yield TenantScope(session, tenant.id), Principal.console(tenant.id)
        except LoomError as error:
            raise click.ClickException(_describe(error)) from error
        finally:
            wait_for_jobs(app)
            database(app).dispose()


def _name(text: Any) -> str:
    return f"{text['en']} / {text['zh']}" if isinstance(text, dict) else str(text)


def register(main: click.Group, database_option: Any) -> None:
    @main.group()
    def template() -> None:
        """Industry templates: list, show, check, install, export, upgrade."""

    @template.command("list")
    def template_list() -> None:
        """The shipped templates."""
        from crm_platform.services.templates import gallery

        for bundle in gallery.templates().values():
            item = gallery.summary(bundle)
            counts = item["counts"]
            click.echo(f"{item['key']:15} {item['version']:8} {item['industry']:14} "
                       f"{_name(item['name'])}  ({counts['forms']} forms, "
                       f"{counts['flows']} flows, {counts['automations']} automations, "
                       f"{counts['sample_records']} sample records)")

    @template.command("show")
    @click.argument("key")
    @click.option("--bundle", "as_bundle", is_flag=True, help="Print the bundle file itself.")
    def template_show(key: str, as_bundle: bool) -> None:
        """What a template holds: forms and fields, flows, automations, roles, views."""
        from crm_platform.cli import _describe
        from crm_platform.services.templates import gallery
        from templates_gallery.bundles import dump_bundle

        try:
            if as_bundle:
                click.echo(dump_bundle(gallery.shipped_file(key)), nl=False)
                return
            bundle = gallery.template(key)
        except LoomError as error:
            raise click.ClickException(_describe(error)) from error
        item, contents = gallery.summary(bundle), gallery.contents(bundle)
        click.echo(f"{_name(item['name'])} {item['version']} ({item['industry']})")
        click.echo(_name(item["description"]))
        for form in contents["forms"]:
            fields = ", ".join(field["key"] for field in form["fields"])
            click.echo(f"  form {form['key']} ({form['records']} sample records): {fields}")
        for flow in contents["flows"]:
            click.echo(f"  flow {flow['key']} on {flow['form']}: {flow['steps']} nodes")
        for rule in contents["automations"]:
            click.echo(f"  automation {rule['key']} on {rule['form']}: {rule['trigger']}")

    @template.command("check")
    @click.argument("path", type=click.Path(exists=True, dir_okay=False))
    def template_check(path: str) -> None:
        """Check a bundle file (meta-schema, forms, expressions, flows, references)."""
        from crm_platform.cli import _describe
        from crm_platform.services.templates.checks import checked_bundle, parsed

        try:
            bundle = checked_bundle(parsed(Path(path).read_bytes()), "en")
        except LoomError as error:
            raise click.ClickException(_describe(error)) from error
        click.echo(f"{bundle['manifest']['key']} {bundle['manifest']['version']}: valid "
                   f"({len(bundle['forms'])} forms).")

    @template.command("install")
    @database_option
    @click.argument("source")
    @click.option("--tenant", "slug", required=True, help="Tenant slug.")
    @click.option("--app", "app_key", default=None, help="The new app's key.")
    @click.option("--no-sample-data", is_flag=True, help="Leave the sample records out.")
    def template_install(database_url: str | None, source: str, slug: str,
                         app_key: str | None, no_sample_data: bool) -> None:
        """Install a shipped template (by key) or a bundle file (by path) as a new app."""
        from crm_platform.services.templates.install import install_bundle

        with _tenant(database_url, slug) as (scope, admin):
            app = install_bundle(scope, admin, _load(source), app_key=app_key,
                                 sample_data=not no_sample_data)
            click.echo(f"Installed app '{app.key}' in tenant {slug}.")

    @template.command("export")
    @database_option
    @click.option("--tenant", "slug", required=True, help="Tenant slug.")
    @click.option("--app", "app_key", required=True, help="The app to export.")
    @click.option("--sample-data", is_flag=True, help="Include the records as sample data.")
    @click.option("-o", "--output", type=click.Path(dir_okay=False), default=None,
                  help="Write to this file (default: standard output).")
    def template_export(database_url: str | None, slug: str, app_key: str, sample_data: bool,
                        output: str | None) -> None:
        """Export an app as a bundle file (installing it elsewhere clones the app)."""
        from crm_platform.services.forms.apps import app_by_key
        from crm_platform.services.templates.export import export_app
        from templates_gallery.bundles import dump_bundle

        with _tenant(database_url, slug) as (scope, admin):
            text = dump_bundle(export_app(scope, admin, app_by_key(scope, app_key),
                                          sample_data=sample_data))
        if output:
            Path(output).write_text(text, encoding="utf-8")
            click.echo(f"Wrote {output}.")
        else:
            click.echo(text, nl=False)

    @template.command("upgrade")
    @database_option
    @click.argument("source")
    @click.option("--tenant", "slug", required=True, help="Tenant slug.")
    @click.option("--app", "app_key", required=True, help="The installed app.")
    @click.option("--resolve", "resolves", multiple=True, metavar="PATH=mine|theirs",
                  help="Resolve one conflict (repeatable).")
    @click.option("--dry-run", is_flag=True, help="Show the conflicts and changes only.")
    def template_upgrade(database_url: str | None, source: str, slug: str, app_key: str,
                         resolves: tuple[str, ...], dry_run: bool) -> None:
        """Upgrade an app to a newer version of its template (three-way merge)."""
        from crm_platform.services.forms.apps import app_by_key
        from crm_platform.services.templates.upgrade import plan_upgrade, upgrade_app

        resolutions = {}
        for item in resolves:
            path, _sep, choice = item.rpartition("=")
            if not path or choice not in TEXT_KINDS:
                raise click.BadParameter(f"{item!r}: expected PATH=mine or PATH=theirs",
                                         param_hint="--resolve")
            resolutions[path] = choice
        with _tenant(database_url, slug) as (scope, admin):
            app = app_by_key(scope, app_key)
            offered = _load(source)
            plan = plan_upgrade(scope, admin, app, offered, resolutions)
            described = plan.as_dict()
            click.echo(f"{app_key}: {described['template']} {described['from_version']} → "
                       f"{described['to_version']}")
            for change in described["changes"]:
                click.echo(f"  {change['change']:8} {change['part']} {change['key']}")
            for conflict in described["conflicts"]:
                click.echo(f"  CONFLICT {conflict['path']}")
                for side in ("base", "mine", "theirs"):
                    value = conflict[side]
                    shown = "(deleted)" if value.get("deleted") else json.dumps(
                        value["value"], ensure_ascii=False, default=str)
                    click.echo(f"      {side:6} {shown}")
            if described["conflicts"]:
                raise click.ClickException(
                    f"{len(described['conflicts'])} conflict(s): resolve each with "
                    "--resolve PATH=mine or --resolve PATH=theirs.")
            if dry_run:
                return
            upgrade_app(scope, admin, app, offered, resolutions)
            click.echo(f"Upgraded '{app_key}' to {described['to_version']}.")
