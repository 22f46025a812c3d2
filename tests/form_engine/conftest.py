"""Forms a business user would build, and a stand-in for the platform's resolver.

Each definition fixture returns a fresh deep copy, so a test may break it on purpose. The
forms come from INDUSTRIES.md: a customer (the design's own example), a sales order with
line items, a training-school enrollment and a service ticket.
"""

from __future__ import annotations

import copy
from collections.abc import Collection, Mapping
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest

# Friday 5 January 2024, 09:30 UTC (17:30 in Beijing).
NOW = datetime(2024, 1, 5, 9, 30, tzinfo=UTC)

CUSTOMER: dict[str, Any] = {
    "key": "customer", "label": {"en": "Customer", "zh": "客户"},
    "fields": [
        {"key": "name", "type": "text", "label": {"en": "Name", "zh": "名称"},
         "required": True, "max_length": 200},
        {"key": "phone", "type": "phone", "label": {"en": "Phone", "zh": "电话"},
         "region": "CN", "unique": True, "indexed": True},
        {"key": "email", "type": "email", "label": {"en": "E-mail", "zh": "邮箱"}},
        {"key": "city", "type": "text", "label": {"en": "City", "zh": "城市"}},
        {"key": "level", "type": "select", "label": {"en": "Level", "zh": "等级"},
         "options": [{"value": "a", "label": {"en": "Key account", "zh": "重点客户"}},
                     {"value": "b", "label": {"en": "Regular", "zh": "普通客户"}}]},
        {"key": "budget", "type": "currency", "label": {"en": "Budget", "zh": "预算"},
         "currency": "CNY", "visible_if": "level == 'a'", "required_if": "level == 'a'"},
        {"key": "score", "type": "formula", "label": {"en": "Score", "zh": "评分"},
         "expression": "budget / 10000 if budget else 0", "result": "number"},
        {"key": "owner", "type": "user", "label": {"en": "Owner", "zh": "负责人"}},
        {"key": "team", "type": "department", "label": {"en": "Team", "zh": "团队"}},
        {"key": "total_spent", "type": "rollup", "label": {"en": "Total spent", "zh": "累计消费"},
         "function": "sum", "column": "payable",
         "related": {"form": "sales_order", "link_field": "customer"}},
    ],
    "rules": [{"key": "budget_cap", "error_if": "budget > 5000000", "field": "budget",
               "message": {"en": "Budget above 5M needs a key-account form",
                           "zh": "预算超过500万请使用大客户表单"}}],
    "layout": [{"section": {"en": "Basics", "zh": "基本信息"}, "columns": 2,
                "fields": ["name", "phone", "level", "budget"]}],
    "title": "{name}",
    "dedup": [["phone"], ["name", "city"]],
}

SALES_ORDER: dict[str, Any] = {
    "key": "sales_order", "label": {"en": "Sales order", "zh": "销售订单"},
    "fields": [
        {"key": "number", "type": "autonumber", "label": {"en": "Order no.", "zh": "订单号"},
         "pattern": "SO-{YYYY}{MM}{DD}-{seq:4}", "reset": "daily"},
        {"key": "customer", "type": "lookup", "form": "customer", "display_field": "name",
         "label": {"en": "Customer", "zh": "客户"}, "required": True},
        {"key": "owner", "type": "user", "label": {"en": "Owner", "zh": "负责人"}},
        {"key": "order_date", "type": "date", "label": {"en": "Order date", "zh": "下单日期"},
         "default_expression": "today()"},
        {"key": "status", "type": "select", "label": {"en": "Status", "zh": "状态"},
         "default": "draft",
         "options": [{"value": "draft", "label": {"en": "Draft", "zh": "草稿"}},
                     {"value": "confirmed", "label": {"en": "Confirmed", "zh": "已确认"}},
                     {"value": "shipped", "label": {"en": "Shipped", "zh": "已发货"}}]},
        {"key": "lines", "type": "subtable", "label": {"en": "Lines", "zh": "明细"},
         "min_rows": 1, "max_rows": 5,
         "fields": [
             {"key": "product", "type": "lookup", "form": "product",
              "label": {"en": "Product", "zh": "产品"}, "required": True},
             {"key": "qty", "type": "number", "kind": "integer", "min": 1,
              "label": {"en": "Quantity", "zh": "数量"}, "required": True},
             {"key": "price", "type": "currency", "currency": "CNY",
              "label": {"en": "Unit price", "zh": "单价"}, "required": True},
             {"key": "subtotal", "type": "formula", "expression": "qty * price",
              "result": "number", "precision": 2,
              "label": {"en": "Subtotal", "zh": "小计"}},
         ]},
        {"key": "total", "type": "rollup", "function": "sum", "subtable": "lines",
         "column": "subtotal", "label": {"en": "Total", "zh": "合计"}},
        {"key": "discount", "type": "percent", "min": 0, "max": 100, "default": 0,
         "label": {"en": "Discount", "zh": "折扣"}},
        {"key": "payable", "type": "formula",
         "expression": "round(total * (100 - discount) / 100, 2)",
         "label": {"en": "Payable", "zh": "应付金额"}},
        {"key": "ship_date", "type": "date", "label": {"en": "Ship date", "zh": "发货日期"},
         "visible_if": "status == 'shipped'", "required_if": "status == 'shipped'"},
        {"key": "remarks", "type": "textarea", "label": {"en": "Remarks", "zh": "备注"},
         "readonly_if": "status == 'shipped'"},
        {"key": "paid", "type": "boolean", "label": {"en": "Paid", "zh": "已付款"},
         "read_only": True},
    ],
    "rules": [{"key": "discount_cap", "field": "discount",
               "error_if": "discount > 30 and total > 100000",
               "message": {"en": "Orders above 100,000 take at most 30% discount",
                           "zh": "订单金额超过10万时折扣不能超过30%"}}],
    "layout": [{"section": {"en": "Order", "zh": "订单"}, "columns": 2,
                "fields": ["customer", "owner", "order_date", "status"]},
               {"section": {"en": "Items", "zh": "商品"}, "fields": ["lines", "total"]}],
    "title": "{number} {customer}",
}

ENROLLMENT: dict[str, Any] = {
    "key": "enrollment", "label": {"en": "Enrollment", "zh": "报名合同"},
    "fields": [
        {"key": "student", "type": "text", "label": {"en": "Student", "zh": "学员"},
         "required": True},
        {"key": "parent_phone", "type": "phone",
         "label": {"en": "Parent's phone", "zh": "家长电话"}},
        {"key": "course", "type": "select", "label": {"en": "Course", "zh": "课程"},
         "required": True,
         "options": [{"value": "math", "label": {"en": "Maths", "zh": "数学"}},
                     {"value": "english", "label": {"en": "English", "zh": "英语"}}]},
        {"key": "sessions_bought", "type": "number", "kind": "integer", "min": 1,
         "label": {"en": "Sessions bought", "zh": "购买课时"}, "required": True},
        {"key": "sessions_used", "type": "number", "kind": "integer", "min": 0, "default": 0,
         "label": {"en": "Sessions used", "zh": "已上课时"}},
        {"key": "sessions_remaining", "type": "formula",
         "expression": "sessions_bought - sessions_used",
         "label": {"en": "Sessions remaining", "zh": "剩余课时"}},
        {"key": "amount", "type": "currency", "label": {"en": "Amount", "zh": "金额"}},
        {"key": "period_start", "type": "date", "default_expression": "today()",
         "label": {"en": "Starts", "zh": "开始日期"}},
        {"key": "period_end", "type": "date", "default_expression": "add_months(today(), 12)",
         "label": {"en": "Ends", "zh": "结束日期"}},
        {"key": "renewal_due", "type": "formula", "result": "boolean",
         "expression": "sessions_remaining <= 3 or days_between(today(), period_end) <= 30",
         "label": {"en": "Renewal due", "zh": "需续费"}},
    ],
    "rules": [{"key": "not_overused", "field": "sessions_used",
               "error_if": "sessions_used > sessions_bought",
               "message": {"en": "More sessions used than bought",
                           "zh": "已上课时不能超过购买课时"}}],
    "title": "{student} · {course}",
    "dedup": [["student", "course"]],
}

SERVICE_TICKET: dict[str, Any] = {
    "key": "service_ticket", "label": {"en": "Service ticket", "zh": "服务工单"},
    "fields": [
        {"key": "number", "type": "autonumber", "pattern": "TK-{YYYY}{MM}-{seq:5}",
         "reset": "monthly", "label": {"en": "Ticket no.", "zh": "工单号"}},
        {"key": "customer", "type": "lookup", "form": "customer", "required": True,
         "label": {"en": "Customer", "zh": "客户"}},
        {"key": "kind", "type": "select", "label": {"en": "Kind", "zh": "类型"},
         "default": "repair",
         "options": [{"value": "repair", "label": {"en": "Repair", "zh": "维修"}},
                     {"value": "complaint", "label": {"en": "Complaint", "zh": "投诉"}}]},
        {"key": "priority", "type": "select", "label": {"en": "Priority", "zh": "优先级"},
         "options": [{"value": "p1", "label": {"en": "Urgent", "zh": "紧急"}},
                     {"value": "p2", "label": {"en": "Normal", "zh": "普通"}}]},
        {"key": "engineer", "type": "user", "label": {"en": "Engineer", "zh": "工程师"}},
        {"key": "team", "type": "department", "label": {"en": "Team", "zh": "服务组"}},
        {"key": "status", "type": "select", "default": "open",
         "label": {"en": "Status", "zh": "状态"},
         "options": [{"value": "open", "label": {"en": "Open", "zh": "处理中"}},
                     {"value": "closed", "label": {"en": "Closed", "zh": "已关闭"}}]},
        {"key": "opened_at", "type": "datetime", "default_expression": "now()",
         "label": {"en": "Opened", "zh": "创建时间"}},
        {"key": "sla_hours", "type": "number", "kind": "integer", "read_only": True,
         "default": 2, "label": {"en": "SLA (hours)", "zh": "响应时限（小时）"}},
        {"key": "resolution", "type": "textarea", "required_if": "status == 'closed'",
         "label": {"en": "Resolution", "zh": "处理结果"}},
        {"key": "satisfaction", "type": "rating", "max": 10, "visible_if": "status == 'closed'",
         "label": {"en": "Satisfaction", "zh": "满意度"}},
        {"key": "parts", "type": "subtable", "label": {"en": "Parts used", "zh": "使用配件"},
         "fields": [
             {"key": "part", "type": "lookup", "form": "part", "required": True,
              "label": {"en": "Part", "zh": "配件"}},
             {"key": "count", "type": "number", "kind": "integer", "min": 1,
              "label": {"en": "Count", "zh": "数量"}},
             {"key": "fitted_by", "type": "user", "label": {"en": "Fitted by", "zh": "安装人"}},
         ]},
        {"key": "parts_count", "type": "rollup", "function": "count", "subtable": "parts",
         "label": {"en": "Parts", "zh": "配件数"}},
    ],
    "rules": [{"key": "unhappy_needs_resolution", "field": "satisfaction",
               "error_if": "satisfaction != null and satisfaction < 7 and not resolution",
               "message": {"en": "A low score needs a resolution note",
                           "zh": "满意度低于 7 分时必须填写处理结果"}}],
}

APP_FORMS = frozenset({"customer", "sales_order", "enrollment", "service_ticket", "product",
                       "part"})


@pytest.fixture
def customer_definition() -> dict[str, Any]:
    return copy.deepcopy(CUSTOMER)


@pytest.fixture
def order_definition() -> dict[str, Any]:
    return copy.deepcopy(SALES_ORDER)


@pytest.fixture
def enrollment_definition() -> dict[str, Any]:
    return copy.deepcopy(ENROLLMENT)


@pytest.fixture
def ticket_definition() -> dict[str, Any]:
    return copy.deepcopy(SERVICE_TICKET)


class FakeResolver:
    """The platform's answers, from dictionaries; records every question it is asked."""

    def __init__(self) -> None:
        self.users = {7, 8}
        self.departments = {3}
        self.records: dict[str, set[int]] = {"customer": {1, 2}, "product": {11, 12, 13},
                                             "part": {21}}
        self.rollups: dict[tuple[str, str, str | None, str, int | None], Any] = {}
        self.sequences: dict[tuple[str, str], int] = {}
        self.questions: list[tuple[Any, ...]] = []

    def missing_references(self, target: str, form: str | None, ids: Collection[int]
                           ) -> Collection[int]:
        self.questions.append(("missing_references", target, form, frozenset(ids)))
        known: Mapping[str, Collection[int]] = {"user": self.users,
                                                "department": self.departments}
        existing = known[target] if target != "record" else self.records.get(form or "", set())
        return {identifier for identifier in ids if identifier not in existing}

    def related_rollup(self, form: str, link_field: str, column: str | None, function: str,
                       record_id: int | None, result: str = "number", **filtered: Any) -> Any:
        self.questions.append(("related_rollup", form, link_field, column, function, record_id))
        return self.rollups.get((form, link_field, column, function, record_id), Decimal(0))

    def next_sequence(self, field_key: str, period: str) -> int:
        self.questions.append(("next_sequence", field_key, period))
        number = self.sequences.get((field_key, period), 0) + 1
        self.sequences[(field_key, period)] = number
        return number


@pytest.fixture
def resolver() -> FakeResolver:
    return FakeResolver()
