"""The stack's own floor for `benchmarks/http.py`: a minimal Flask + SQLAlchemy app serving
the same operations as Loom's records API on a plain typed table — no validation, no
permissions, no history, no rules. Run by gunicorn: `benchmarks.http_floor:app`, on
`FLOOR_DATABASE_URL`."""

from __future__ import annotations

import os
from decimal import Decimal
from typing import Any

from flask import Flask, jsonify, request
from sqlalchemy import (
    BigInteger,
    Column,
    Index,
    Integer,
    MetaData,
    Numeric,
    String,
    Table,
    create_engine,
    insert,
    select,
)

metadata = MetaData()
deals = Table("floor_deals", metadata,
              Column("id", BigInteger().with_variant(Integer(), "sqlite"), primary_key=True,
                     autoincrement=True),
              Column("tenant_id", Integer, nullable=False),
              Column("code", String(40)), Column("name", String(200)),
              Column("region", String(20)), Column("amount", Numeric(20, 2)),
              Index("ix_floor_region_amount", "tenant_id", "region", "amount", "id"))
engine = create_engine(os.environ["FLOOR_DATABASE_URL"])
app = Flask(__name__)


def _row(row: Any) -> dict[str, Any]:
    return {"id": row.id, "data": {"code": row.code, "name": row.name, "region": row.region,
                                   "amount": str(row.amount) if row.amount is not None
                                   else None}}


def _values(data: dict[str, Any]) -> dict[str, Any]:
    return {"tenant_id": 1, "code": data.get("code"), "name": data.get("name"),
            "region": data.get("region"), "amount": Decimal(str(data.get("amount")))}


@app.post("/records")
def create() -> Any:
    with engine.begin() as connection:
        new_id = connection.execute(insert(deals).values(_values(request.get_json()["data"]))
                                    .returning(deals.c.id)).scalar_one()
    return jsonify({"id": new_id}), 201


@app.get("/records/<int:record_id>")
def get(record_id: int) -> Any:
    with engine.connect() as connection:
        row = connection.execute(select(deals).where(deals.c.tenant_id == 1,
                                                     deals.c.id == record_id)).first()
    return (jsonify(_row(row)), 200) if row else (jsonify({}), 404)


@app.get("/records")
def page() -> Any:
    region, below = request.args["region"], Decimal(request.args["below"])
    with engine.connect() as connection:
        rows = connection.execute(select(deals).where(
            deals.c.tenant_id == 1, deals.c.region == region, deals.c.amount <= below)
            .order_by(deals.c.amount.desc(), deals.c.id.desc()).limit(50)).all()
    return jsonify({"items": [_row(row) for row in rows]})


@app.post("/records/batch")
def batch() -> Any:
    items = request.get_json()["items"]
    with engine.begin() as connection:
        connection.execute(insert(deals), [_values(item["data"]) for item in items])
    return jsonify({"items": [{"status": 201} for _ in items]})
