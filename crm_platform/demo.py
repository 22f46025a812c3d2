"""`loom demo`'s sales app, so a newcomer's workspace has something in it: customers,
contacts and deals on a stage pipeline; about 200 records with Chinese and English names,
made by a seeded generator (every demo is the same); a sales department with two sales
people and their manager, each able to sign in.

Everything is made through the same services as by hand and through the API. Running the
demo again keeps what is there: the app is only made when the tenant has none.
(The industry templates will replace this with the sales core template.)
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy.orm import Session

from crm_platform.auth.login import principal_for
from crm_platform.auth.principal import Principal
from crm_platform.models import App, Tenant, User
from crm_platform.scoping import TenantScope
from crm_platform.services.forms import apps as app_service
from crm_platform.services.forms import definitions as form_service
from crm_platform.services.forms.permissions import set_permissions
from crm_platform.services.identity.departments import create_department
from crm_platform.services.identity.roles import create_role
from crm_platform.services.identity.users import create_user
from crm_platform.services.records import operations as record_service

APP_KEY = "sales"
SEED = 2026


def _label(en: str, zh: str) -> dict[str, str]:
    return {"en": en, "zh": zh}


def _options(*items: tuple[str, str, str, str]) -> list[dict[str, Any]]:
    return [{"value": value, "label": _label(en, zh), "colour": colour}
            for value, en, zh, colour in items]


INDUSTRIES = _options(("manufacturing", "Manufacturing", "制造业", "#2680c2"),
                      ("education", "Education", "教育", "#3ebd93"),
                      ("retail", "Retail", "零售", "#f0b429"),
                      ("services", "Services", "服务业", "#9446ed"))
LEVELS = _options(("a", "A — key account", "A 重点客户", "#e12d39"),
                  ("b", "B — growing", "B 成长客户", "#f0b429"),
                  ("c", "C — small", "C 一般客户", "#829ab1"))
STAGES = _options(("lead", "Lead", "线索", "#829ab1"),
                  ("qualified", "Qualified", "已确认需求", "#2680c2"),
                  ("proposal", "Proposal", "方案报价", "#9446ed"),
                  ("negotiation", "Negotiation", "商务谈判", "#f0b429"),
                  ("won", "Won", "赢单", "#3ebd93"),
                  ("lost", "Lost", "输单", "#e12d39"))

CUSTOMER = {
    "key": "customer", "label": _label("Customers", "客户"), "title": "{name}",
    "fields": [
        {"key": "name", "type": "text", "label": _label("Name", "名称"), "required": True,
         "max_length": 200, "indexed": True},
        {"key": "industry", "type": "select", "label": _label("Industry", "行业"),
         "options": INDUSTRIES, "indexed": True},
        {"key": "level", "type": "select", "label": _label("Level", "客户等级"),
         "options": LEVELS},
        {"key": "city", "type": "text", "label": _label("City", "城市"), "max_length": 50},
        {"key": "phone", "type": "phone", "label": _label("Phone", "电话"), "region": "CN"},
        {"key": "notes", "type": "textarea", "label": _label("Notes", "备注")}],
    "layout": [{"section": _label("Basics", "基本信息"), "columns": 2,
                "fields": ["name", "industry", "level", "city", "phone"]},
               {"section": _label("More", "更多"), "columns": 1, "fields": ["notes"]}],
}
CONTACT = {
    "key": "contact", "label": _label("Contacts", "联系人"), "title": "{name}",
    "fields": [
        {"key": "name", "type": "text", "label": _label("Name", "姓名"), "required": True,
         "max_length": 100},
        {"key": "customer", "type": "lookup", "label": _label("Customer", "所属客户"),
         "form": "customer", "display_field": "name", "required": True},
        {"key": "position", "type": "text", "label": _label("Position", "职务")},
        {"key": "phone", "type": "phone", "label": _label("Mobile", "手机"), "region": "CN"},
        {"key": "email", "type": "email", "label": _label("E-mail", "邮箱")}],
}
DEAL = {
    "key": "deal", "label": _label("Deals", "商机"), "title": "{name}",
    "fields": [
        {"key": "name", "type": "text", "label": _label("Deal", "商机名称"), "required": True,
         "max_length": 200},
        {"key": "customer", "type": "lookup", "label": _label("Customer", "客户"),
         "form": "customer", "display_field": "name", "required": True},
        {"key": "stage", "type": "select", "label": _label("Stage", "阶段"),
         "options": STAGES, "default": "lead", "required": True, "indexed": True},
        {"key": "amount", "type": "currency", "label": _label("Amount", "金额"),
         "currency": "CNY", "min": 0, "indexed": True},
        {"key": "close_date", "type": "date", "label": _label("Expected close", "预计成交日期"),
         "indexed": True}],
}

COMPANY_CITIES = ["北京", "上海", "深圳", "杭州", "成都", "武汉", "苏州", "南京", "广州", "西安"]
COMPANY_WORDS = ["华信", "远航", "锦程", "恒达", "新元", "天成", "博远", "盛世", "启明", "瑞丰",
                 "金桥", "东方"]
COMPANY_SUFFIXES = ["科技有限公司", "贸易有限公司", "制造有限公司", "信息技术有限公司",
                    "教育咨询有限公司", "商贸有限公司"]
ENGLISH_COMPANIES = ["Northwind Trading", "Acme Robotics", "Blue Harbor Foods",
                     "Summit Logistics", "Greenleaf Retail", "Brightpath Learning",
                     "Ironwood Machining", "Silverline Apparel", "Redwood Analytics",
                     "Oakridge Schools", "Harborview Hotels", "Pioneer Plastics"]
SURNAMES = ["王", "李", "张", "刘", "陈", "杨", "赵", "黄", "周", "吴", "徐", "孙"]
GIVEN = ["伟", "芳", "娜", "敏", "静", "磊", "洋", "艳", "勇", "军", "杰", "涛", "婷", "浩"]
ENGLISH_PEOPLE = ["Emily Chen", "James Miller", "Sophie Martin", "Daniel Wong",
                  "Olivia Brown", "Lucas Schmidt", "Grace Lee", "Henry Walker"]
POSITIONS = ["总经理", "采购经理", "财务总监", "IT 主管", "Purchasing Manager", "CTO",
             "运营总监", "Office Manager"]
DEAL_WORDS = ["年度采购", "设备升级", "系统集成", "培训服务", "Annual licence", "Pilot project",
              "门店扩张", "Maintenance contract"]


@dataclass(frozen=True)
class Person:
    email: str
    name: str
    role: str


PEOPLE = (Person("manager@demo.loom.example", "李娜 (Manager)", "manager"),
          Person("sales@demo.loom.example", "王小明", "sales"),
          Person("emily@demo.loom.example", "Emily Chen", "sales"))


def _phone(rng: random.Random) -> str:
    prefix = rng.choice(("138", "139", "136", "135", "186", "188", "158", "159", "150"))
    return f"+86{prefix}{rng.randrange(10**7, 10**8)}"


def _company(rng: random.Random, index: int) -> str:
    if index % 4 == 3:
        return f"{ENGLISH_COMPANIES[index // 4 % len(ENGLISH_COMPANIES)]} {index // 48 + 1}"
    return (f"{rng.choice(COMPANY_CITIES)}{rng.choice(COMPANY_WORDS)}"
            f"{rng.choice(COMPANY_SUFFIXES)}")


def _person(rng: random.Random, index: int) -> str:
    if index % 5 == 4:
        return ENGLISH_PEOPLE[index // 5 % len(ENGLISH_PEOPLE)]
    return rng.choice(SURNAMES) + rng.choice(GIVEN) + (rng.choice(GIVEN) if index % 2 else "")


def create_sales_app(session: Session, tenant: Tenant, password: str) -> list[Person]:
    """The sales app with its people and sample records; nothing when the tenant already
    has an app `sales`. The people who can sign in (beside the administrator)."""
    scope = TenantScope(session, tenant.id)
    if session.scalars(scope.select(App, App.key == APP_KEY)).first() is not None:
        return []
    admin = Principal.console(tenant.id)
    team = create_department(scope, admin, {"name": "销售部 Sales"})
    east = create_department(scope, admin, {"name": "华东组 East", "parent_id": team.id})
    roles = {key: create_role(scope, admin, {"key": key, "name": name}).id
             for key, name in (("sales", "销售 Sales"), ("manager", "销售经理 Sales manager"))}
    users: dict[str, User] = {}
    for person in PEOPLE:
        users[person.email] = create_user(scope, admin, {
            "email": person.email, "name": person.name, "password": password,
            "roles": [roles[person.role]],
            "department_id": team.id if person.role == "manager" else east.id,
            "locale": "zh" if person.email.startswith("sales@") else "en"})
    team.head_id = users[PEOPLE[0].email].id
    app = app_service.create_app_record(scope, admin, {
        "key": APP_KEY, "name": "销售管理 Sales", "description": "Loom demo"})
    forms = {}
    for definition in (CUSTOMER, CONTACT, DEAL):
        forms[definition["key"]] = form = form_service.create_form(scope, admin, app,
                                                                   definition)
        form_service.publish_form_version(scope, admin, form)
        set_permissions(scope, admin, form, [
            {"role": "sales", "can_create": True, "read": "own", "update": "own",
             "delete": "own"},
            {"role": "manager", "can_create": True, "read": "department_tree",
             "update": "department_tree", "delete": "department_tree"}])
    sellers = [principal_for(session, users[person.email], "session")
               for person in PEOPLE if person.role == "sales"]
    _sample_records(scope, forms, sellers)
    return list(PEOPLE)


def _sample_records(scope: TenantScope, forms: dict[str, Any],
                    sellers: list[Principal]) -> None:
    rng = random.Random(SEED)
    create = record_service.create_record
    customers: list[tuple[int, Principal]] = []
    for index in range(60):
        seller = sellers[index % len(sellers)]
        record, _new = create(scope, seller, forms["customer"], {
            "name": _company(rng, index),
            "industry": rng.choice(INDUSTRIES)["value"], "level": rng.choice(LEVELS)["value"],
            "city": rng.choice(COMPANY_CITIES), "phone": _phone(rng)})
        customers.append((record.id, seller))
    for index in range(60):
        customer, seller = customers[index]
        create(scope, seller, forms["contact"], {
            "name": _person(rng, index), "customer": customer,
            "position": rng.choice(POSITIONS), "phone": _phone(rng),
            "email": f"contact{index + 1}@example.com"})
    today = date(2026, 12, 1)
    for index in range(80):
        customer, seller = customers[rng.randrange(len(customers))]
        create(scope, seller, forms["deal"], {
            "name": f"{rng.choice(DEAL_WORDS)} {index + 1:03d}", "customer": customer,
            "stage": rng.choice(STAGES)["value"],
            "amount": Decimal(rng.randrange(20, 2000)) * 1000,
            "close_date": (today + timedelta(days=rng.randrange(-60, 120))).isoformat()})
