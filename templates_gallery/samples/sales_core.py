"""Sample records of the sales core: 60 customers with their contacts and follow-ups, 60
leads, 60 opportunities across the pipeline, quotes with line items, contracts and their
payments (回款).

Dates are relative to the install day (`{"$days": n}`). Most customers were followed up in
the last three weeks; a few were last followed up over a month ago, so the first daily
tick of the pool rule sends them back to the customer pool (公海).
"""

from __future__ import annotations

import random
from decimal import Decimal
from typing import Any

from templates_gallery.samples.names import (
    CITIES,
    POSITIONS,
    REGIONS,
    company,
    email,
    mobile,
    person,
)

CUSTOMERS, LEADS, OPPORTUNITIES = 60, 60, 60
# lead regions go to the sales group of their region (as the assignment rules do)
REGION_GROUPS = {"north": "sales_north", "east": "sales_east", "central": "sales_east",
                 "south": "sales_south", "west": "sales_south"}
INDUSTRIES = ["manufacturing", "it", "finance", "retail", "education", "healthcare",
              "construction", "logistics", "energy", "government", "other"]
SOURCES = ["website", "referral", "exhibition", "cold_call", "advertising", "partner", "other"]
TAGS = ["vip", "repeat", "listed", "state_owned", "channel", "at_risk"]
STREETS = ["人民路", "建设路", "中山路", "解放大道", "科技园南路", "长江路", "和平路", "高新大道",
           "工业园区三路", "滨江路"]
STAGES = (["first_contact"] * 12 + ["needs_confirmed"] * 12 + ["quotation"] * 12
          + ["negotiation"] * 9 + ["won"] * 9 + ["lost"] * 6)
LOST_REASONS = ["price", "competitor", "no_budget", "timing"]
PRODUCTS = [("CRM 软件订阅（50 用户/年）", 60_000), ("CRM 软件订阅（200 用户/年）", 198_000),
            ("实施服务（人天）", 2_500), ("数据迁移服务", 30_000), ("培训服务（天）", 5_000),
            ("定制开发（人天）", 3_000), ("年度运维服务", 80_000),
            ("服务器 Dell PowerEdge R750", 68_000), ("工业物联网网关", 12_800),
            ("智能仓储管理系统", 450_000)]
OPPORTUNITY_NAMES = ["CRM 系统采购", "年度运维续约", "数字化升级项目", "仓储管理系统",
                     "设备联网改造", "二期扩容", "集团推广项目", "培训服务采购", "数据中台建设",
                     "渠道管理系统"]
SUMMARIES = {
    "call": ["电话沟通采购计划，对方预计下季度立项。", "回访使用情况，客户反馈系统运行稳定。",
             "电话确认报价细节，客户关注实施周期。", "与采购经理电话沟通付款方式。",
             "Called about the renewal; they want a multi-year price."],
    "visit": ["上门拜访总经理，介绍整体解决方案。", "现场调研生产线，收集数字化需求。",
              "拜访 IT 主管，演示移动端功能。", "陪同技术顾问现场勘查机房环境。",
              "On-site visit with the operations director; walked the warehouse."],
    "meeting": ["参加客户内部评审会，解答技术问题。", "与财务、采购三方会议，确认合同条款。",
                "方案汇报会，客户高层基本认可。", "项目启动会，确认实施计划和里程碑。",
                "Steering meeting: scope agreed, budget to be confirmed."],
    "message": ["微信发送产品资料和案例。", "邮件发送正式报价单。", "短信提醒客户参加线上研讨会。",
                "微信确认下周拜访时间。", "E-mailed the revised proposal."],
}
NEXT_STEPS = ["发送正式报价", "安排技术交流", "邀请参观样板客户", "确认预算和决策流程",
              "催办合同盖章", "安排产品演示", "Send the revised quote",
              "Book a demo with the IT team"]
LEAD_NOTES = ["官网留言咨询价格。", "展会现场扫码留资，对移动端感兴趣。",
              "老客户转介绍，预算已落实。", "电话陌拜，对方表示可以先看资料。",
              "Asked for a trial account.", None, None]


def _unique_mobile(rng: random.Random, taken: set[str]) -> str:
    while True:
        number = mobile(rng)
        if number not in taken:
            taken.add(number)
            return number


def _ref(ref: str) -> dict[str, str]:
    return {"$ref": ref}


def _days(days: int) -> dict[str, int]:
    return {"$days": days}


def _row(ref: str, data: dict[str, Any], owner_role: str = "sales") -> dict[str, Any]:
    return {"ref": ref, "data": {k: v for k, v in data.items() if v is not None},
            "owner_role": owner_role}


def records(rng: random.Random) -> dict[str, list[dict[str, Any]]]:
    phones: set[str] = set()
    customers, contacts = [], []
    contacts_of: dict[str, list[str]] = {}
    for index in range(CUSTOMERS):
        ref = f"c{index + 1:03d}"
        region = rng.choice(REGIONS)
        city = rng.choice(CITIES[region])
        tags = rng.sample(TAGS, rng.choice((0, 0, 1, 1, 2)))
        customers.append(_row(ref, {
            "name": company(rng, index, city),
            "region": region, "city": city,
            "industry": rng.choice(INDUSTRIES),
            "level": rng.choices(("a", "b", "c"), (15, 45, 40))[0],
            "source": rng.choice(SOURCES),
            "tags": tags or None,
            "phone": _unique_mobile(rng, phones),
            "email": email(index, "customer.example.com"),
            "address": {"city": city,
                        "detail": f"{rng.choice(STREETS)}{rng.randrange(1, 800)}号"},
            "assigned_on": _days(-rng.randrange(45, 400)),
            "notes": rng.choice((None, None, "年度采购集中在第四季度。", "决策人是总经理。",
                                 "Prefers e-mail to calls.")),
        }))
        for number in range(rng.choice((1, 1, 2))):
            contact_ref = f"p{len(contacts) + 1:03d}"
            contacts_of.setdefault(ref, []).append(contact_ref)
            contacts.append(_row(contact_ref, {
                "name": person(rng, len(contacts)),
                "customer": _ref(ref),
                "position": rng.choice(POSITIONS),
                "phone": _unique_mobile(rng, phones),
                "email": email(len(contacts), "people.example.com"),
                "is_primary": number == 0,
            }))

    leads = []
    for index in range(LEADS):
        region = rng.choice(REGIONS)
        city = rng.choice(CITIES[region])
        status = rng.choices(("new", "contacted", "qualified", "converted", "disqualified"),
                             (20, 15, 10, 8, 7))[0]
        leads.append(_row(f"l{index + 1:03d}", {
            "name": person(rng, index + 7),
            "company": company(rng, index + 1, city),
            "phone": _unique_mobile(rng, phones),
            "email": email(index, "lead.example.com") if index % 3 else None,
            "region": region, "city": city,
            "source": rng.choice(SOURCES),
            "status": status,
            "converted_customer": _ref(f"c{rng.randrange(CUSTOMERS) + 1:03d}")
            if status == "converted" else None,
            "notes": rng.choice(LEAD_NOTES),
        }, REGION_GROUPS[region]))

    opportunities = []
    opportunities_of: dict[str, list[str]] = {}
    stages = STAGES[:]
    rng.shuffle(stages)
    for index, stage in enumerate(stages[:OPPORTUNITIES]):
        customer = f"c{rng.randrange(CUSTOMERS) + 1:03d}"
        ref = f"o{index + 1:03d}"
        opportunities_of.setdefault(customer, []).append(ref)
        closed = stage in ("won", "lost")
        opportunities.append(_row(ref, {
            "name": rng.choice(OPPORTUNITY_NAMES),
            "customer": _ref(customer),
            "contact": _ref(contacts_of[customer][0]),
            "stage": stage,
            "amount": rng.randrange(5, 300) * 10_000,
            "expected_close": _days(-rng.randrange(5, 90) if closed
                                    else rng.randrange(10, 150)),
            "source": rng.choice(SOURCES),
            "lost_reason": rng.choice(LOST_REASONS) if stage == "lost" else None,
        }))

    follow_ups = []
    idle = set(rng.sample(range(CUSTOMERS), 6))   # not followed up for over a month
    for index in range(CUSTOMERS):
        customer = f"c{index + 1:03d}"
        count = rng.choice((1, 2, 2, 3, 3, 4))
        newest = -rng.randrange(31, 60) if index in idle else -rng.randrange(0, 22)
        dates = sorted({newest - rng.randrange(3, 120) for _ in range(count - 1)} | {newest})
        for position, day in enumerate(dates):
            kind = rng.choices(("call", "visit", "meeting", "message"), (40, 25, 15, 20))[0]
            last = position == len(dates) - 1
            next_date = rng.randrange(1, 15) if last and index not in idle else None
            deals = opportunities_of.get(customer, [])
            follow_ups.append(_row(f"f{len(follow_ups) + 1:03d}", {
                "customer": _ref(customer),
                "contact": _ref(rng.choice(contacts_of[customer])),
                "opportunity": _ref(rng.choice(deals)) if deals and rng.random() < 0.5
                else None,
                "kind": kind,
                "date": _days(day),
                "summary": rng.choice(SUMMARIES[kind]),
                "next_step": rng.choice(NEXT_STEPS) if next_date else None,
                "next_date": _days(next_date) if next_date else None,
            }))

    quotes, quoted = [], []
    candidates = [row for row in opportunities
                  if row["data"]["stage"] in ("quotation", "negotiation", "won")]
    for index, opportunity in enumerate(candidates[:30]):
        ref = f"q{index + 1:03d}"
        lines = [{"product": product, "quantity": rng.choice((1, 1, 2, 3, 5, 10, 20)),
                  "unit_price": price}
                 for product, price in rng.sample(PRODUCTS, rng.randrange(1, 5))]
        if index == 0:   # one large quote: over a million, needs the director
            lines = [{"product": PRODUCTS[9][0], "quantity": 3, "unit_price": PRODUCTS[9][1]}]
        stage = opportunity["data"]["stage"]
        status = "approved" if stage in ("negotiation", "won") else rng.choice(
            ("draft", "draft", "approved", "rejected"))
        response = ("accepted" if stage == "won" else "pending")
        discount = rng.choice((0, 0, 3, 5, 8, 10, 12, 15)) if status != "draft" else rng.choice(
            (0, 5))
        quotes.append(_row(ref, {
            "customer": opportunity["data"]["customer"],
            "opportunity": _ref(opportunity["ref"]),
            "quote_date": _days(-rng.randrange(5, 60)),
            "valid_until": _days(rng.randrange(0, 30)),
            "lines": lines,
            "discount": discount,
            "status": status,
            "customer_response": response,
        }))
        if response == "accepted":
            total = sum(Decimal(line["quantity"]) * Decimal(line["unit_price"])
                        for line in lines)
            quoted.append((ref, opportunity, (total * (100 - discount) / 100).quantize(
                Decimal("0.01"))))

    contracts, payments = [], []
    won_without_quote = [row for row in opportunities if row["data"]["stage"] == "won"
                         and row["ref"] not in {item[1]["ref"] for item in quoted}]
    deals = quoted + [(None, row, Decimal(row["data"]["amount"]))
                      for row in won_without_quote]
    while len(deals) < 22:   # repeat business: a second contract on a won deal
        quote, opportunity, amount = rng.choice(deals)
        deals.append((None, opportunity, (amount / 2).quantize(Decimal("1"))))
    for index, (quote, opportunity, amount) in enumerate(deals):
        ref = f"k{index + 1:03d}"
        signed = -rng.randrange(10, 300)
        status = "completed" if signed < -200 else rng.choice(("signed", "executing"))
        contracts.append(_row(ref, {
            "name": f"{opportunity['data']['name']}合同",
            "customer": opportunity["data"]["customer"],
            "quote": _ref(quote) if quote else None,
            "opportunity": _ref(opportunity["ref"]),
            "amount": amount,
            "signed_on": _days(signed),
            "end_date": _days(signed + 365),
            "status": status,
        }))
        shares = ([Decimal("0.3"), Decimal("0.6"), Decimal("0.1")] if status == "completed"
                  else [Decimal("0.3"), Decimal("0.4")][:rng.choice((0, 1, 1, 2))])
        day = signed
        for share in shares:
            day = min(day + rng.randrange(5, 60), 0)
            payments.append(_row(f"m{len(payments) + 1:03d}", {
                "contract": _ref(ref),
                "amount": (amount * share).quantize(Decimal("0.01")),
                "received_on": _days(day),
                "method": rng.choices(("bank_transfer", "acceptance_bill", "cheque"),
                                      (80, 15, 5))[0],
                "reference": f"{rng.randrange(10**11, 10**12)}",
            }, "finance"))

    return {"customer": customers, "contact": contacts, "lead": leads,
            "opportunity": opportunities, "follow_up": follow_ups, "quote": quotes,
            "contract": contracts, "payment": payments}
