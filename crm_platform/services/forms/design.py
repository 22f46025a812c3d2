"""The form builder's changes to a form's draft, each one a step: made on the draft's
revision the designer last saw (else refused, naming who changed the draft and when, so
two designers never silently overwrite each other), checked like any draft (a step that
would leave the form invalid is refused and nothing is saved), and kept with the draft
before it, so it can be undone and redone. A draft saved through the API is a step too."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from sqlalchemy import func

from crm_platform.auth.principal import Principal
from crm_platform.errors import Conflict, FieldError, ValidationFailed
from crm_platform.models import App, Form, FormDraftStep, User
from crm_platform.scoping import TenantScope
from crm_platform.services.forms.definitions import check_draft, version_row
from form_engine import editing
from form_engine.messages import render

STEPS_KEPT = 100  # undo reaches this many steps back (at least 50 asked)
Change = Callable[[Mapping[str, Any]], dict[str, Any]]


def edit_draft(scope: TenantScope, actor: Principal, form: Form, revision: int | None,
               change: Change, path: str = "") -> Form:
    """Apply `change` (one of `form_engine.editing`'s edits) to the draft as of
    `revision` (None: whatever it is now, as the API's save does)."""
    actor.require_designer()
    before = form.draft
    try:
        after = change(before)
    except editing.EditRefused as refused:
        raise refused_edit(refused, actor.locale, path) from None
    _write(scope, actor, form, revision, after)
    scope.session.execute(scope.delete(   # a new step ends what could be redone
        FormDraftStep, FormDraftStep.form_id == form.id, FormDraftStep.undone.is_(True)))
    scope.add(FormDraftStep(form_id=form.id, revision=form.draft_revision, before=before,
                            after=after, undone=False))
    scope.session.flush()
    _prune(scope, form)
    return form


def save_draft(scope: TenantScope, actor: Principal, form: Form, definition: Any) -> Form:
    """The API's save: the whole draft at once, over whatever revision it is at."""
    return edit_draft(scope, actor, form, None, lambda _draft: definition)


def undo(scope: TenantScope, actor: Principal, form: Form, revision: int | None) -> Form:
    """The draft as it was before the latest step not yet undone."""
    actor.require_designer()
    step = scope.session.scalars(scope.select(
        FormDraftStep, FormDraftStep.form_id == form.id, FormDraftStep.undone.is_(False))
        .order_by(FormDraftStep.id.desc()).limit(1)).first()
    if step is None:
        raise Conflict("nothing_to_undo")
    _write(scope, actor, form, revision, step.before)
    step.undone = True
    return form


def redo(scope: TenantScope, actor: Principal, form: Form, revision: int | None) -> Form:
    """The draft as the earliest undone step made it."""
    actor.require_designer()
    step = scope.session.scalars(scope.select(
        FormDraftStep, FormDraftStep.form_id == form.id, FormDraftStep.undone.is_(True))
        .order_by(FormDraftStep.id).limit(1)).first()
    if step is None:
        raise Conflict("nothing_to_redo")
    _write(scope, actor, form, revision, step.after)
    step.undone = False
    return form


def history_depth(scope: TenantScope, form: Form) -> tuple[int, int]:
    """How many steps can be undone and redone."""
    rows = dict(scope.session.execute(
        scope.select(FormDraftStep, FormDraftStep.form_id == form.id)
        .with_only_columns(FormDraftStep.undone, func.count())
        .group_by(FormDraftStep.undone)).all())
    return rows.get(False, 0), rows.get(True, 0)


def refused_edit(refused: editing.EditRefused, locale: str, path: str) -> ValidationFailed:
    return ValidationFailed("definition_invalid", fields=[FieldError(path, refused.code, {
        "text": render(refused.code, locale, refused.params)})], count=1)


def published_keys(scope: TenantScope, form: Form) -> set[str]:
    """The keys records store values under: fixed once published (a rename would orphan
    every value), while keys only in the draft may still change."""
    if not form.published_version:
        return set()
    return editing.field_keys(version_row(scope, form).definition)


def _write(scope: TenantScope, actor: Principal, form: Form, revision: int | None,
           after: dict[str, Any]) -> None:
    """Save `after` as the draft if it is still at `revision`: compare-and-set in one
    statement, so of two designers saving at once one wins and the other is told."""
    app = scope.get(App, form.app_id, "app")
    check_draft(scope, app, form, after, actor.locale)
    expected = form.draft_revision if revision is None else revision
    written = scope.session.execute(
        scope.update(Form, Form.id == form.id, Form.draft_revision == expected)
        .values(draft=after, draft_revision=expected + 1,
                draft_updated_by_id=actor.acting_user_id)
        .execution_options(synchronize_session=False))
    if written.rowcount != 1:
        scope.session.refresh(form)
        raise _changed_by(scope, form, actor.locale)
    scope.session.refresh(form)


def _changed_by(scope: TenantScope, form: Form, locale: str) -> Conflict:
    user = scope.find(User, form.draft_updated_by_id) if form.draft_updated_by_id else None
    name = (user.name or user.email) if user is not None else "—"
    at = form.draft_updated_at.strftime("%Y-%m-%d %H:%M UTC")
    return Conflict("draft_changed", name=name, at=at, revision=form.draft_revision)


def _prune(scope: TenantScope, form: Form) -> None:
    """Keep the newest STEPS_KEPT steps of the form."""
    oldest_kept = scope.session.scalar(
        scope.select(FormDraftStep, FormDraftStep.form_id == form.id)
        .with_only_columns(FormDraftStep.id)
        .order_by(FormDraftStep.id.desc()).offset(STEPS_KEPT - 1).limit(1))
    if oldest_kept is not None:
        scope.session.execute(scope.delete(FormDraftStep, FormDraftStep.form_id == form.id,
                                           FormDraftStep.id < oldest_kept))
