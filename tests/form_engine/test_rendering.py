"""Rendering a form to HTML: escaped, laid out, one widget per type, errors inline."""

from __future__ import annotations

import re

from form_engine.compiler import compile_form
from form_engine.context import ValidationContext
from form_engine.field_types import FIELD_TYPES
from form_engine.rendering import render_form
from form_engine.schema_export import ui_schema
from form_engine.validation import validate

HOSTILE = "<script>alert(1)</script>"


def every_type() -> dict:
    fields = []
    for name in sorted(FIELD_TYPES):
        field: dict = {"key": f"f_{name}", "type": name, "label": {"en": name, "zh": f"中{name}"}}
        extra = {"select": {"options": [{"value": "a", "label": HOSTILE}]},
                 "multiselect": {"options": [{"value": "a"}, {"value": "b"}]},
                 "lookup": {"form": "other"}, "formula": {"expression": "1 + 1"},
                 "rollup": {"function": "count", "subtable": "f_subtable"},
                 "subtable": {"fields": [{"key": "qty", "type": "number", "required": True}]},
                 "note": {"text": HOSTILE}}
        field.update(extra.get(name, {}))
        fields.append(field)
    return {"key": "all", "label": HOSTILE, "fields": fields}


def test_every_field_type_renders_a_widget() -> None:
    form = compile_form(every_type())
    html = render_form(form)
    for name in FIELD_TYPES:
        assert f'data-key="f_{name}"' in html, name


def test_user_text_is_escaped_everywhere() -> None:
    definition = every_type()
    definition["fields"][0]["label"] = HOSTILE
    definition["fields"][0]["help"] = HOSTILE
    html = render_form(compile_form(definition), values={"f_text": HOSTILE})
    assert "<script>" not in html
    assert html.count("&lt;script&gt;") >= 4


def test_required_marks_values_and_inline_errors() -> None:
    form = compile_form({"key": "lead", "fields": [
        {"key": "name", "type": "text", "required": True, "label": {"en": "Name", "zh": "名称"}},
        {"key": "lines", "type": "subtable", "fields": [
            {"key": "qty", "type": "number", "kind": "integer", "min": 1}]}]})
    result = validate(form, {"lines": [{"qty": 0}]}, ValidationContext())
    html = render_form(form, result.data, result.errors, "zh")
    assert 'class="loom-required"' in html
    assert "名称为必填项。" in html
    assert "qty不能小于 1。" in html


def test_a_wrong_field_is_marked_and_points_at_its_help_and_messages() -> None:
    form = compile_form({"key": "lead", "fields": [
        {"key": "name", "type": "text", "required": True, "help": {"en": "As on the licence"}},
        {"key": "email", "type": "email"},
        {"key": "lines", "type": "subtable", "fields": [
            {"key": "qty", "type": "number", "kind": "integer", "min": 1}]}]})
    result = validate(form, {"lines": [{"qty": 0}]}, ValidationContext())
    html = render_form(form, result.data, result.errors, "en")
    name = re.search(r"<input id=\"loom-lead-name\"[^>]*>", html).group(0)
    assert 'aria-invalid="true"' in name
    assert 'aria-describedby="loom-lead-name-help loom-lead-name-error-1"' in name
    assert 'id="loom-lead-name-help"' in html and 'id="loom-lead-name-error-1"' in html
    email = re.search(r"<input id=\"loom-lead-email\"[^>]*>", html).group(0)
    assert "aria-invalid" not in email and "aria-describedby" not in email
    qty = re.search(r"<input id=\"loom-lead-lines-0-qty\"[^>]*>", html).group(0)
    assert 'aria-describedby="loom-lead-lines-0-qty-error-1"' in qty
    assert 'id="loom-lead-lines-0-qty-error-1"' in html


def test_layout_sections_and_columns() -> None:
    form = compile_form({"key": "c", "fields": [{"key": "a", "type": "text"},
                                                  {"key": "b", "type": "text"}],
                         "layout": [{"section": {"en": "Basics", "zh": "基本信息"},
                                     "columns": 2, "fields": ["a"]}]})
    html = render_form(form, locale="zh")
    assert "<legend>基本信息</legend>" in html and "loom-grid loom-grid-2" in html
    assert "style=" not in html      # the CSP allows no inline style
    assert [block["fields"] for block in ui_schema(form)["layout"]] == [["a"], ["b"]]


def test_hidden_fields_render_hidden() -> None:
    form = compile_form({"key": "c", "fields": [
        {"key": "level", "type": "select", "options": [{"value": "a"}, {"value": "b"}]},
        {"key": "budget", "type": "currency", "visible_if": "level == 'a'"}]})
    result = validate(form, {"level": "b"}, ValidationContext())
    html = render_form(form, result.data, visible=result.visible)
    assert 'data-key="budget" hidden' in html


def test_a_record_title_follows_the_form_template_and_never_shows_hidden_fields() -> None:
    from form_engine.compiler import compile_form
    from form_engine.titles import record_title

    form = compile_form({"key": "deal", "title": "{code} {customer}", "fields": [
        {"key": "code", "type": "text"}, {"key": "customer", "type": "text"},
        {"key": "amount", "type": "currency"}]})
    assert record_title(form, {"code": "D-7", "customer": "华为"}) == "D-7 华为"
    assert record_title(form, {"code": "D-7", "customer": "华为"}, hidden={"customer"}) == "D-7"
    untitled = compile_form({"key": "note", "fields": [
        {"key": "amount", "type": "currency"}, {"key": "secret", "type": "text"},
        {"key": "name", "type": "text"}]})
    assert record_title(untitled, {"secret": "x", "name": "Acme"}, hidden={"secret"}) == "Acme"
    assert record_title(untitled, {"amount": "5"}) == ""
