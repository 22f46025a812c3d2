"""Edits of a form definition, as the form builder makes them: add a field of a type, move
it (within or between sections), change or drop one of its options, remove it; add,
change, move or remove a section. Each edit is a pure function of a definition (the input
is never changed) and names what it cannot do; whether the result is a valid form is then
checked by `checks.check_definition`, like any definition.

The builder keeps the layout explicit: every top-level field sits in exactly one section
(`layout`), and `fields` lists them in the layout's order, so a reader that ignores the
layout (the API's schema, an export) sees the fields as the form shows them.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Mapping
from typing import Any

from form_engine.errors import FormEngineError
from form_engine.field_types import FIELD_TYPES

MAX_COLUMNS = 4
KEY = re.compile(r"^[a-z][a-z0-9_]{0,62}$")


class EditRefused(FormEngineError):
    """An edit that cannot be made: `code` and `params` say why (see messages)."""

    def __init__(self, code: str, **params: Any) -> None:
        self.code, self.params = code, params
        super().__init__(f"{code} {params}")


def normalized(definition: Mapping[str, Any]) -> dict[str, Any]:
    """A copy whose layout places every field once, in sections, and whose `fields`
    follow the layout's order. Unplaced fields join a last section (two columns when the
    form has no sections, as the renderer shows them)."""
    result = copy.deepcopy(dict(definition))
    fields = {item["key"]: item for item in result.get("fields", [])}
    sections, placed = [], set()
    for block in result.get("layout", []):
        keys = [key for key in block.get("fields", []) if key in fields and key not in placed]
        placed.update(keys)
        sections.append({**block, "fields": keys})
    rest = [key for key in fields if key not in placed]
    if rest or not sections:
        if sections:
            sections[-1]["fields"].extend(rest)
        else:
            sections.append({"columns": 2, "fields": rest})
    result["layout"] = sections
    result["fields"] = [fields[key] for block in sections for key in block["fields"]]
    return result


def field_keys(definition: Mapping[str, Any]) -> set[str]:
    """Every key in use: top-level fields and subtable columns."""
    keys = set()
    for item in definition.get("fields", []):
        keys.add(item["key"])
        keys.update(column["key"] for column in item.get("fields", []))
    return keys


def new_key(base: str, taken: set[str]) -> str:
    """`base` made a key (lower-case letters, digits, underscores), numbered if taken."""
    slug = re.sub(r"[^a-z0-9]+", "_", base.lower()).strip("_")[:50] or "field"
    if not slug[0].isalpha():
        slug = f"f_{slug}"
    key, number = slug, 2
    while key in taken:
        key, number = f"{slug}_{number}", number + 1
    return key


def add_field(definition: Mapping[str, Any], type_name: str, *, after: str | None = None,
              section: int | None = None, index: int | None = None,
              label: Mapping[str, str] | None = None, forms: list[str] | None = None
              ) -> tuple[dict[str, Any], str]:
    """A new field of `type_name` after the field `after` (else at `index` of `section` —
    where it was dropped — or at its end, else at the end of the last section), with what
    its type needs to be valid: three options for a choice, one column for a subtable, a
    form to look up among `forms`. Returns the new definition and the field's key."""
    kind = FIELD_TYPES.get(type_name)
    if kind is None:
        raise EditRefused("unknown_type", name=type_name, known=", ".join(sorted(FIELD_TYPES)))
    result = normalized(definition)
    name = dict(label or {"en": type_name.capitalize(), "zh": type_name})
    key = new_key(name.get("en") or type_name, field_keys(result))
    item: dict[str, Any] = {"key": key, "type": type_name, "label": name,
                            **_starting_options(type_name, result, forms or [])}
    sections = result["layout"]
    if after is not None:
        where = _find(result, after)
        sections[where[0]]["fields"].insert(where[1] + 1, key)
    else:
        block = sections[-1 if section is None else _section_index(result, section)]
        place = len(block["fields"]) if index is None else max(0, index)
        block["fields"].insert(place, key)
    result["fields"].append(item)
    return _ordered(result), key


def _starting_options(type_name: str, definition: Mapping[str, Any],
                      forms: list[str]) -> dict[str, Any]:
    if type_name in ("select", "multiselect"):
        return {"options": [{"value": f"option_{number}",
                             "label": {"en": f"Option {number}", "zh": f"选项 {number}"}}
                            for number in (1, 2, 3)]}
    if type_name == "subtable":
        return {"fields": [{"key": new_key("item", field_keys(definition)), "type": "text",
                            "label": {"en": "Item", "zh": "项目"}}]}
    if type_name == "formula":
        return {"expression": "0", "result": "number"}
    if type_name == "autonumber":
        return {"pattern": "NO-{seq:5}"}
    if type_name == "lookup":
        if not forms:
            raise EditRefused("no_form_to_look_up")
        return {"form": forms[0]}
    if type_name == "rollup":
        tables = [item for item in definition.get("fields", []) if item["type"] == "subtable"]
        if not tables:
            raise EditRefused("no_subtable_to_roll_up")
        return {"function": "count", "subtable": tables[0]["key"]}
    return {}


def remove_field(definition: Mapping[str, Any], key: str) -> dict[str, Any]:
    result = normalized(definition)
    section, index = _find(result, key)
    del result["layout"][section]["fields"][index]
    result["fields"] = [item for item in result["fields"] if item["key"] != key]
    return _ordered(result)


def move_field(definition: Mapping[str, Any], key: str, section: int, index: int
               ) -> dict[str, Any]:
    """Put the field at `index` of `section` (an index past the end: last)."""
    result = normalized(definition)
    source, position = _find(result, key)
    del result["layout"][source]["fields"][position]
    target = result["layout"][_section_index(result, section)]["fields"]
    target.insert(max(0, min(index, len(target))), key)
    return _ordered(result)


def step_field(definition: Mapping[str, Any], key: str, direction: int) -> dict[str, Any]:
    """One place up (-1) or down (+1): across into the neighbouring section at its edge —
    the keyboard's way of dragging."""
    result = normalized(definition)
    section, index = _find(result, key)
    count = len(result["layout"][section]["fields"])
    if 0 <= index + direction < count:
        return move_field(result, key, section, index + direction)
    neighbour = section + direction
    if not 0 <= neighbour < len(result["layout"]):
        return result
    return move_field(result, key, neighbour,
                      0 if direction > 0 else len(result["layout"][neighbour]["fields"]))


def set_option(definition: Mapping[str, Any], key: str, option: str, value: Any
               ) -> dict[str, Any]:
    """Set one option of the field `key` (None removes it). Setting `key` renames the field
    in the layout, the title and the dedup keys too; expressions that name it are left
    for the check to point out."""
    result = normalized(definition)
    item = next((item for item in result["fields"] if item["key"] == key), None)
    if item is None:
        raise EditRefused("no_such_field", value=key)
    if option == "type":
        raise EditRefused("type_is_fixed")
    if option == "key":
        return _renamed(result, key, value)
    if value is None or value == "" or value == {}:
        item.pop(option, None)
    else:
        item[option] = value
    return result


def _renamed(definition: dict[str, Any], old: str, new: Any) -> dict[str, Any]:
    if not isinstance(new, str) or not KEY.fullmatch(new):
        raise EditRefused("bad_key", value=new)
    if new != old and new in field_keys(definition):
        raise EditRefused("key_taken", value=new)
    for item in definition["fields"]:
        if item["key"] == old:
            item["key"] = new
    for block in definition["layout"]:
        block["fields"] = [new if key == old else key for key in block["fields"]]
    if isinstance(definition.get("title"), str):
        definition["title"] = definition["title"].replace("{" + old + "}", "{" + new + "}")
    if definition.get("dedup"):
        definition["dedup"] = [[new if key == old else key for key in keys]
                               for keys in definition["dedup"]]
    return definition


def add_section(definition: Mapping[str, Any], after: int | None = None,
                label: Mapping[str, str] | None = None) -> dict[str, Any]:
    result = normalized(definition)
    block: dict[str, Any] = {"section": dict(label or {"en": "New section", "zh": "新分组"}),
                             "columns": 2, "fields": []}
    position = len(result["layout"]) if after is None else _section_index(result, after) + 1
    result["layout"].insert(position, block)
    return result


def set_section(definition: Mapping[str, Any], section: int, *,
                label: Mapping[str, str] | None = None, columns: int | None = None
                ) -> dict[str, Any]:
    result = normalized(definition)
    block = result["layout"][_section_index(result, section)]
    if label is not None:
        texts = {language: text for language, text in label.items() if text}
        if texts:
            block["section"] = texts
        else:
            block.pop("section", None)
    if columns is not None:
        if not 1 <= columns <= MAX_COLUMNS:
            raise EditRefused("bad_columns", limit=MAX_COLUMNS)
        block["columns"] = columns
    return result


def move_section(definition: Mapping[str, Any], section: int, direction: int
                 ) -> dict[str, Any]:
    result = normalized(definition)
    index = _section_index(result, section)
    target = index + direction
    if 0 <= target < len(result["layout"]):
        sections = result["layout"]
        sections[index], sections[target] = sections[target], sections[index]
    return _ordered(result)


def remove_section(definition: Mapping[str, Any], section: int) -> dict[str, Any]:
    """The section goes; its fields join the section before it (the next, for the first).
    The last section stays: a form shows its fields somewhere."""
    result = normalized(definition)
    index = _section_index(result, section)
    sections = result["layout"]
    if len(sections) == 1:
        raise EditRefused("last_section")
    keys = sections.pop(index)["fields"]
    if index > 0:
        sections[index - 1]["fields"].extend(keys)
    else:
        sections[0]["fields"][:0] = keys
    return _ordered(result)


def set_form_option(definition: Mapping[str, Any], option: str, value: Any
                    ) -> dict[str, Any]:
    """The form's own label, description, title pattern, dedup keys or rules."""
    if option not in ("label", "description", "title", "dedup", "rules"):
        raise EditRefused("not_a_form_option", value=option)
    result = normalized(definition)
    if value is None or value == "" or value == [] or value == {}:
        result.pop(option, None)
    else:
        result[option] = value
    return result


def _find(definition: Mapping[str, Any], key: str) -> tuple[int, int]:
    for section, block in enumerate(definition["layout"]):
        if key in block["fields"]:
            return section, block["fields"].index(key)
    raise EditRefused("no_such_field", value=key)


def _section_index(definition: Mapping[str, Any], section: int) -> int:
    if not isinstance(section, int) or not 0 <= section < len(definition["layout"]):
        raise EditRefused("no_such_section", value=section)
    return section


def _ordered(definition: dict[str, Any]) -> dict[str, Any]:
    fields = {item["key"]: item for item in definition["fields"]}
    definition["fields"] = [fields[key] for block in definition["layout"]
                            for key in block["fields"]]
    return definition
