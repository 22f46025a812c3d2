"""`number`: an integer (`kind: integer`) or a decimal with `precision` places."""

from typing import Any, ClassVar

from form_engine.field_types.numbers import NUMBER_OPTIONS, NumberLike


class Number(NumberLike):
    name = "number"
    options: ClassVar[dict[str, Any]] = {
        **NUMBER_OPTIONS, "kind": {"enum": ["integer", "decimal"]}}
