"""Records validated per second for a 20-field form, three ways, in one run:

1. Loom's compiled validator (strict JSON mode: coercion, formulas, rules, phone and e-mail
   checks included);
2. a reused `jsonschema.Draft202012Validator` on the form's JSON Schema export, with the
   format checker on (so e-mail and date formats are checked as ours are);
3. `fastjsonschema` compiled from the same export (when installed).

The form: text, phone, email, select, numbers, currency, dates, a 5-line subtable with a
row formula, a rollup, 2 formulas and 2 rules. Records are all valid and all different.

    python -m benchmarks.validation            # full run (20 000 records)
    python -m benchmarks.validation --quick    # 2 000 records
"""

from __future__ import annotations

import argparse
import random
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from jsonschema import Draft202012Validator

from benchmarks.common import rates, report
from form_engine.compiler import compile_form
from form_engine.context import ValidationContext
from form_engine.field_types.phone import normalize_phone
from form_engine.schema_export import input_schema
from form_engine.validation import validate

ORDER_FORM: dict[str, Any] = {
    "key": "order",
    "fields": [
        {"key": "customer", "type": "text", "required": True, "max_length": 200},
        {"key": "contact", "type": "text", "max_length": 100},
        {"key": "phone", "type": "phone", "required": True},
        {"key": "email", "type": "email"},
        {"key": "channel", "type": "select", "options": [
            {"value": "web"}, {"value": "store"}, {"value": "dealer"}, {"value": "phone"}]},
        {"key": "priority", "type": "select", "options": [
            {"value": "low"}, {"value": "normal"}, {"value": "high"}]},
        {"key": "discount", "type": "percent", "min": 0, "max": 100},
        {"key": "shipping", "type": "currency", "min": 0},
        {"key": "quantity_hint", "type": "number", "kind": "integer", "min": 0},
        {"key": "ordered_on", "type": "date", "required": True},
        {"key": "deliver_by", "type": "date"},
        {"key": "paid", "type": "boolean"},
        {"key": "rating", "type": "rating"},
        {"key": "notes", "type": "textarea", "max_length": 2000},
        {"key": "region", "type": "text", "max_length": 50},
        {"key": "lines", "type": "subtable", "max_rows": 50, "fields": [
            {"key": "product", "type": "text", "required": True, "max_length": 100},
            {"key": "qty", "type": "number", "kind": "integer", "min": 1, "required": True},
            {"key": "price", "type": "currency", "min": 0, "required": True},
            {"key": "subtotal", "type": "formula", "expression": "qty * price",
             "precision": 2}]},
        {"key": "total", "type": "rollup", "function": "sum", "subtable": "lines",
         "column": "subtotal"},
        {"key": "net", "type": "formula",
         "expression": "total * (100 - (discount or 0)) / 100 + (shipping or 0)",
         "precision": 2},
        {"key": "lead_days", "type": "formula",
         "expression": "days_between(ordered_on, deliver_by) if deliver_by else None"},
        {"key": "reference", "type": "text", "max_length": 40},
    ],
    "rules": [
        {"key": "delivery_after_order", "error_if": "deliver_by and deliver_by < ordered_on",
         "field": "deliver_by", "message": {"en": "Delivery before the order date",
                                            "zh": "交货日期早于下单日期"}},
        {"key": "discount_cap", "error_if": "discount and discount > 30 and channel == 'web'",
         "field": "discount", "message": {"en": "Web orders allow at most 30 %",
                                          "zh": "网店订单折扣不能超过30%"}},
    ],
}


def make_records(count: int, seed: int = 7) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    start = date(2024, 1, 1)
    records = []
    for index in range(count):
        ordered = start + timedelta(days=rng.randrange(600))
        records.append({
            "customer": f"Customer {index} Ltd.",
            "contact": rng.choice(["Li Lei", "Han Meimei", "Wang Fang", "Zhang Wei"]),
            "phone": f"+86138{index % 100_000_000:08d}",
            "email": f"buyer{index}@example{index % 97}.com",
            "channel": rng.choice(["web", "store", "dealer", "phone"]),
            "priority": rng.choice(["low", "normal", "high"]),
            "discount": Decimal(rng.randrange(0, 3000)) / 100,
            "shipping": Decimal(rng.randrange(0, 50000)) / 100,
            "quantity_hint": rng.randrange(0, 500),
            "ordered_on": ordered.isoformat(),
            "deliver_by": (ordered + timedelta(days=rng.randrange(1, 60))).isoformat(),
            "paid": rng.random() < 0.5,
            "rating": rng.randrange(1, 6),
            "notes": "Deliver to the loading bay before noon." * rng.randrange(0, 3),
            "region": rng.choice(["North", "South", "East", "West"]),
            "lines": [{"product": f"SKU-{rng.randrange(10_000)}", "qty": rng.randrange(1, 20),
                       "price": Decimal(rng.randrange(100, 100_000)) / 100}
                      for _ in range(5)],
            "reference": f"PO-{index:08d}",
        })
    return records


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="a small run")
    args = parser.parse_args()
    count = 2_000 if args.quick else 20_000

    form = compile_form(ORDER_FORM)
    records = make_records(count)
    context = ValidationContext()
    sample = validate(form, records[0], context)
    assert sample.ok, sample.messages()
    schema = input_schema(form)
    jsonschema_validator = Draft202012Validator(
        schema, format_checker=Draft202012Validator.FORMAT_CHECKER)
    assert jsonschema_validator.is_valid(_json_ready(records[0]))
    json_records = [_json_ready(record) for record in records]

    contenders = [(lambda record: validate(form, record, context), records),
                  (lambda record: list(jsonschema_validator.iter_errors(record)),
                   json_records[: max(count // 10, 200)])]
    try:
        import fastjsonschema
    except ImportError:
        fast = None
    else:
        fast = fastjsonschema.compile(schema, formats={"email": r"^[^@\s]+@[^@\s]+$"})
        contenders.append((lambda record: fast(record), json_records))
    # every phone number is new to us on every pass: its cache is cleared before each
    measured = rates(contenders, reset=normalize_phone.cache_clear)
    report("validation", "records_per_second", measured[0], "records/s",
           "jsonschema Draft202012Validator (reused, format checker on)", measured[1])
    if fast is not None:
        report("validation", "records_per_second", measured[0], "records/s",
               "fastjsonschema (compiled from the export)", measured[2])


def _json_ready(record: dict[str, Any]) -> dict[str, Any]:
    """The record as a JSON client sends it (decimals as JSON numbers: floats here)."""
    def convert(value: Any) -> Any:
        if isinstance(value, Decimal):
            return float(value)
        if isinstance(value, list):
            return [convert(item) for item in value]
        if isinstance(value, dict):
            return {key: convert(item) for key, item in value.items()}
        return value

    return convert(record)


if __name__ == "__main__":
    main()
