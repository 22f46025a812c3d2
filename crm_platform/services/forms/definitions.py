"""Forms of an app: create, save the draft, publish immutable versions, and use a version
(schema, render). Definitions are checked by the form engine; a published
version is compiled once per process and cached."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Collection, Mapping
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Select
from sqlalchemy.orm import defer

from crm_platform.auth.principal import Principal
from crm_platform.errors import (
    Conflict,
    FieldError,
    NotFound,
    ValidationFailed,
    engine_fields,
    invalid,
)
from crm_platform.models import App, Form, FormVersion, Tenant
from crm_platform.models.apps import UNKNOWN_DAY
from crm_platform.scoping import TenantScope
from crm_platform.services.forms.versions import next_version_number, numbered_version
from crm_platform.services.storage.filters import related_filter_errors
from crm_platform.services.storage.stats import FormRecordStats
from form_engine.checks import check_definition
from form_engine.compiled import CompiledForm
from form_engine.compiler import compile_form
from form_engine.errors import Problem
from form_engine.field_types import TypeEnv
from form_engine.versions import PublishPlan, plan_publish

_COMPILED: OrderedDict[tuple[Any, ...], CompiledForm] = OrderedDict()
_CACHE_SIZE = 512


def definition_failed(problems: list[Problem], locale: str) -> ValidationFailed:
    """The engine's problems as the API's field errors (messages already in `locale`)."""
    fields = engine_fields(problems, locale)
    return ValidationFailed("definition_invalid", fields=fields, count=len(fields))


def tenant_of(scope: TenantScope) -> Tenant:
    """The scope's tenant, read once per session (the identity map holds rows weakly: a
    row nobody references is read again)."""
    held = scope.session.info.setdefault("loom.tenants", {})
    tenant = held.get(scope.tenant_id)
    if tenant is None:
        tenant = held[scope.tenant_id] = scope.session.get(Tenant, scope.tenant_id)
        assert tenant is not None
    return tenant


def _hold_tenant(scope: TenantScope, tenant: Tenant) -> None:
    """`tenant_of` will not read the tenant again: it came with another statement."""
    scope.session.info.setdefault("loom.tenants", {})[scope.tenant_id] = tenant


def type_env(scope: TenantScope) -> TypeEnv:
    tenant = tenant_of(scope)
    return TypeEnv(region=tenant.default_region, timezone=ZoneInfo(tenant.timezone))


def forms_query(scope: TenantScope, actor: Principal, app: App) -> Select[tuple[Form]]:
    return scope.select(Form, Form.app_id == app.id)


def form_in_app(scope: TenantScope, app_key: str, key: str) -> Form:
    """Form `key` of app `app_key`, found in one statement with the tenant and the form's
    published version (every record request starts here and needs all three); a missing
    app or form is a 404 naming which."""
    found = scope.session.execute(scope.with_tenant(
        scope.select(App, App.key == app_key)
        .outerjoin(Form, (Form.tenant_id == App.tenant_id) & (Form.app_id == App.id)
                   & (Form.key == key))
        .outerjoin(FormVersion, (FormVersion.tenant_id == Form.tenant_id)
                   & (FormVersion.form_id == Form.id)
                   & (FormVersion.version == Form.published_version))
        .add_columns(Form, FormVersion).options(*_DOCUMENTS))).first()
    if found is None:
        raise NotFound("resource_not_found", resource="app", id=app_key)
    _app, form, published, tenant = found
    _hold_tenant(scope, tenant)
    if form is None:
        raise NotFound("resource_not_found", resource="form", id=key)
    if published is not None:
        scope.session.info.setdefault("loom.published", {})[form.id] = published
    return form


# A version's documents, read only by who needs them: a compiled version is cached
_DOCUMENTS = [defer(FormVersion.definition), defer(FormVersion.diff),
              defer(FormVersion.impact), defer(FormVersion.migrations)]


def published_row(scope: TenantScope, form: Form) -> FormVersion:
    """The form's published version (as `version_row`), not read again when `form_in_app`
    brought it; its documents are loaded when first used (`compiled` needs them only once
    a process)."""
    held = scope.session.info.get("loom.published", {}).get(form.id)
    if held is not None and held.version == form.published_version:
        return held
    return version_row(scope, form, None, *_DOCUMENTS)


def app_form_keys(scope: TenantScope, app: App) -> set[str]:
    return set(scope.session.scalars(
        scope.select(Form, Form.app_id == app.id).with_only_columns(Form.key)))


def _checked(scope: TenantScope, app: App, definition: Any, locale: str,
             coming: Collection[str] = ()) -> Mapping[str, Any]:
    known = app_form_keys(scope, app) | set(coming)
    problems = check_definition(definition, known_forms=known, env=type_env(scope))
    if problems:
        raise definition_failed(problems, locale)
    own = _lazily_compiled(scope, definition)
    filtered = related_filter_errors(definition, lambda key: own(key) or _current(
        scope, app, key))
    if filtered:
        raise ValidationFailed("definition_invalid", fields=filtered, count=len(filtered))
    return definition


def _filters_still_fit(scope: TenantScope, form: Form, definition: Mapping[str, Any]) -> None:
    """Publishing `definition` must not break the filter of another form's related roll-up
    over this one (a field it filters on removed or retyped): refused, naming it."""
    own = _lazily_compiled(scope, definition)
    broken = []
    for other in scope.session.scalars(scope.select(
            Form, Form.app_id == form.app_id, Form.id != form.id,
            Form.published_version.is_not(None)).order_by(Form.id)):
        broken.extend(related_filter_errors(version_row(scope, other).definition, own,
                                            f"{other.key}."))
    if broken:
        raise ValidationFailed("rollup_filter_broken", fields=broken, count=len(broken))


def _lazily_compiled(scope: TenantScope, definition: Mapping[str, Any]
                     ) -> Callable[[Any], CompiledForm | None]:
    """`key` → the (checked) definition compiled, if it is that form's — compiled only
    when first asked: most forms have no filtered roll-up."""
    held: list[CompiledForm] = []

    def of(key: Any) -> CompiledForm | None:
        if key != definition.get("key"):
            return None
        if not held:
            held.append(compile_form(definition, env=type_env(scope), checked=True))
        return held[0]

    return of


def _current(scope: TenantScope, app: App, key: Any) -> CompiledForm | None:
    """A form of the app as it is now: published, else its draft (None: not there)."""
    form = scope.session.scalars(scope.select(Form, Form.app_id == app.id,
                                              Form.key == key)).first()
    if form is None:
        return None
    return compiled(scope, version_row(scope, form)) if form.published_version else (
        compiled_draft(scope, form))


def create_form(scope: TenantScope, actor: Principal, app: App, definition: Any,
                coming: Collection[str] = ()) -> Form:
    """A new form whose draft is `definition` (checked; nothing is saved if it is invalid).
    `coming`: keys of forms created with it (a template's), which it may refer to — a
    member's rollup over purchases, a purchase's lookup of its member."""
    actor.require_designer()
    key = definition.get("key") if isinstance(definition, dict) else None
    _checked(scope, app, definition, actor.locale, coming={*coming, *([key] if key else [])})
    if key in app_form_keys(scope, app):
        raise invalid("key", "taken", value=key)
    form = scope.add(Form(app_id=app.id, key=key, draft=definition,
                          draft_updated_by_id=actor.acting_user_id))
    scope.session.flush()
    return form


def check_draft(scope: TenantScope, app: App, form: Form, definition: Any,
                locale: str) -> None:
    """A draft of `form` may be saved: valid, and still under the form's key."""
    if isinstance(definition, dict) and definition.get("key") != form.key:
        raise ValidationFailed(fields=[FieldError("key", "key_is_fixed", {"value": form.key})],
                               count=1)
    _checked(scope, app, definition, locale)


def now_in(scope: TenantScope) -> datetime:
    """Now, in the tenant's time zone (relative date filters start from it)."""
    return datetime.now(type_env(scope).timezone)


def version_row(scope: TenantScope, form: Form, version: int | None = None,
                *options: Any) -> FormVersion:
    """The published version `version` (default: the current one)."""
    return numbered_version(scope, FormVersion, FormVersion.form_id, form, version, *options)


def versions_query(scope: TenantScope, form: Form) -> Select[tuple[FormVersion]]:
    return scope.select(FormVersion, FormVersion.form_id == form.id)


def compiled(scope: TenantScope, row: FormVersion) -> CompiledForm:
    """A published version, compiled once per process (versions never change)."""
    # Keyed by more than the id: a restored or different database may reuse ids; the
    # tenant's zone and region are compiled in too.
    env = type_env(scope)
    key = (row.id, row.tenant_id, row.form_id, row.version, row.published_at.isoformat(),
           env.region, str(env.timezone))
    cached = _COMPILED.get(key)
    if cached is not None:
        _COMPILED.move_to_end(key)
        return cached
    form = compile_form(row.definition, env=env, checked=True)
    _COMPILED[key] = form
    if len(_COMPILED) > _CACHE_SIZE:
        _COMPILED.popitem(last=False)
    return form


def compiled_draft(scope: TenantScope, form: Form) -> CompiledForm:
    """The draft, compiled once per revision a process sees (every save numbers a new
    one): the builder's preview compiles it on every keystroke otherwise."""
    env = type_env(scope)
    key = ("draft", form.tenant_id, form.id, form.created_at.isoformat(), form.draft_revision,
           env.region, str(env.timezone))   # created_at: SQLite may reuse a deleted id
    cached = _COMPILED.get(key)
    if cached is None:
        cached = _COMPILED[key] = compile_form(form.draft, env=env, checked=True)
        if len(_COMPILED) > _CACHE_SIZE:
            _COMPILED.popitem(last=False)
    return cached


def publish_plan(scope: TenantScope, actor: Principal, form: Form,
                 migrations: Mapping[str, Any] | None = None) -> tuple[PublishPlan, Any]:
    """What publishing the draft would do — the diff, its impact on the records, the
    breaking changes `migrations` leaves unanswered — and the published definition it is
    compared with (None before the first publish). Nothing is written."""
    actor.require_designer()
    app = scope.get(App, form.app_id, "app")
    definition = _checked(scope, app, form.draft, actor.locale)
    previous = version_row(scope, form).definition if form.published_version else None
    return plan_publish(previous, definition, FormRecordStats(scope, form), migrations), \
        previous


def publish_form_version(scope: TenantScope, actor: Principal, form: Form,
                         migrations: Mapping[str, Any] | None = None,
                         stats: Any = None) -> FormVersion:
    """Publish the draft as the next immutable version, refusing unhandled breaking changes."""
    actor.require_designer()
    scope.lock_tenant()  # two publishes of the same form must not take the same number
    app = scope.get(App, form.app_id, "app")
    definition = _checked(scope, app, form.draft, actor.locale)
    previous = version_row(scope, form) if form.published_version else None
    if previous is not None and previous.definition == definition:
        raise Conflict("nothing_to_publish", version=previous.version)
    _filters_still_fit(scope, form, definition)
    plan = plan_publish(previous.definition if previous else None, definition,
                        stats or FormRecordStats(scope, form), migrations)
    if plan.problems:
        fields = engine_fields(plan.problems, actor.locale)
        raise Conflict("breaking_change", fields=fields, count=len(fields))
    number = next_version_number(scope, FormVersion, FormVersion.form_id, form)
    row = scope.add(FormVersion(form_id=form.id, version=number, definition=definition,
                                diff=plan.diff.as_dict(), impact=plan.impact,
                                migrations=dict(migrations or {}),
                                published_by_id=actor.acting_user_id))
    form.published_version = number
    form.dated_as_of = UNKNOWN_DAY   # its date-dependent values: looked at on first read
    scope.session.flush()
    _build_indexes_after_commit(scope, form)
    return row


def _build_indexes_after_commit(scope: TenantScope, form: Form) -> None:
    """Once the publish is committed, a job builds the version's indexes — outside any
    transaction, so PostgreSQL builds them CONCURRENTLY, never blocking writes, and the
    publish does not wait for them (on a million records that takes a while)."""
    from crm_platform.jobs import enqueue_after_commit

    enqueue_after_commit(scope.session, "build_indexes", scope.tenant_id, form.id,
                         tenant_id=scope.tenant_id)
