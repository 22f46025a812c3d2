"""Every shipped bundle, data-driven: the meta-schema, every form, expression, pattern,
flow, rule and reference checked as an install checks them; its sample data is what the
seeded generator makes (so every install is identical) and large enough to show the
template; installed without samples and exported, it gives itself back."""

from __future__ import annotations

import importlib
import random

import pytest

from crm_platform.services.templates.checks import checked_bundle
from templates_gallery.bundles import dump_bundle, read_bundle, shipped, without_samples
from templates_gallery.samples.__main__ import SEED
from templates_gallery.schema import BUNDLE_VALIDATOR
from tests.templates.test_install import export, install

BUNDLES = shipped()
KEYS = sorted(BUNDLES)
TASK_FORMS = {"task"}   # made by rules, not a main form


def test_the_four_templates_are_shipped() -> None:
    assert KEYS == ["education", "manufacturing", "retail", "sales_core"]


@pytest.mark.parametrize("key", KEYS)
def test_a_shipped_bundle_passes_every_check(key: str) -> None:
    bundle = BUNDLES[key]
    assert list(BUNDLE_VALIDATOR.iter_errors(bundle)) == []
    for locale in ("en", "zh"):
        composed = checked_bundle(bundle, locale)
    manifest = bundle["manifest"]
    assert manifest["key"] == key
    for text in (manifest["name"], manifest["description"], manifest["app"]["name"]):
        assert text["en"] and text["zh"] and text["en"] != text["zh"]
    for form in composed["forms"]:   # bilingual all through
        assert set(form["label"]) == {"en", "zh"}, form["key"]
        for field in form["fields"]:
            assert set(field.get("label", {"en": 1, "zh": 1})) == {"en", "zh"}, (
                form["key"], field["key"])


@pytest.mark.parametrize("key", KEYS)
def test_sample_data_is_the_seeded_generators_and_shows_the_template(key: str) -> None:
    bundle = BUNDLES[key]
    module = importlib.import_module(f"templates_gallery.samples.{key}")
    made = module.records(random.Random(f"{SEED}:{key}"))
    assert _plain(made) == _plain(bundle["sample_data"]), (
        "run `python -m templates_gallery.samples` after changing a generator")
    main_forms = [form for form, rows in bundle["sample_data"].items()
                  if form not in TASK_FORMS and len(rows) >= 50]
    assert len(main_forms) >= 3, bundle["sample_data"].keys()


def _plain(value):
    """As written to the file and read back (numbers as the file has them)."""
    return read_bundle(dump_bundle({"sample_data": value}).encode())["sample_data"]


@pytest.fixture
def in_app(app):
    with app.app_context():
        yield


@pytest.mark.parametrize("key", KEYS)
def test_install_then_export_gives_the_shipped_bundle_back(db, tenant_a, in_app, key):
    installed = checked_bundle(BUNDLES[key], "en")

    install(db, tenant_a, BUNDLES[key], sample_data=False)
    exported = export(db, tenant_a, installed["manifest"]["app"]["key"])

    assert exported == without_samples(installed)
