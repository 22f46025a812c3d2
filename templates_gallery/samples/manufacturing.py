"""Sample records of the manufacturing template: its own customers (refs `mc…`, so they
never clash with the sales core's), dealers, the installed base, service tickets, orders
and a few follow-up tasks."""

from __future__ import annotations

import random
from typing import Any

from templates_gallery.samples.names import company, person, region_and_city

MODELS = {"cnc_v850": 268000, "cnc_v1160": 398000, "lathe_ck6150": 156000,
          "laser_3015": 325000, "press_brake_100t": 118000, "injection_280": 462000}
INDUSTRIES = ["manufacturing", "energy", "construction", "logistics", "other"]
DEALER_WORDS = ["精工", "通达", "恒力", "华机", "宏远", "鑫诚", "联创", "中机", "正泰", "东升"]
PROBLEMS = [("主轴异响", "Spindle noise"), ("液压系统漏油", "Hydraulic oil leak"),
            ("数控系统报警 2031", "CNC alarm 2031"), ("切割精度下降", "Cutting accuracy drifts"),
            ("冷却泵不工作", "Coolant pump stopped"), ("换刀卡顿", "Tool change stalls"),
            ("定期保养", "Scheduled maintenance"), ("安装调试", "Installation and set-up"),
            ("工程师迟到投诉", "Engineer arrived late"),
            ("配件发货慢", "Spare parts shipped slowly")]
RESOLUTIONS = ["更换主轴轴承，试机正常。", "更换密封圈并补充液压油。", "升级系统参数，报警消除。",
               "重新校准光路，精度恢复。", "更换冷却泵电机。", "调整刀库定位，换刀顺畅。",
               "完成保养：润滑、紧固、精度检测。", "Replaced the servo drive; tested OK."]


def _phone(rng: random.Random, used: set[str]) -> str:
    while True:  # prefixes the sales core's samples do not use
        number = f"+86{rng.choice(('177', '199', '166'))}{rng.randrange(10**7, 10**8)}"
        if number not in used:
            used.add(number)
            return number


def records(rng: random.Random) -> dict[str, list[dict[str, Any]]]:
    phones: set[str] = set()
    customers = []
    for i in range(50):
        region, city = region_and_city(rng)
        customers.append({"ref": f"mc{i + 1:03d}", "owner_role": "sales", "data": {
            "name": company(rng, i, city) if i % 4 != 3 else f"{company(rng, i)} (Machining)",
            "region": region, "city": city, "industry": rng.choice(INDUSTRIES),
            "level": rng.choice("aabbbcc"), "source": rng.choice(
                ["exhibition", "referral", "partner", "website", "cold_call"]),
            "tags": rng.sample(["repeat", "vip", "state_owned", "channel"], rng.randrange(0, 3)),
            "phone": _phone(rng, phones), "email": f"equipment{i + 1}@customer.example.com",
            "assigned_on": {"$days": -rng.randrange(30, 900)}}})
    # the customer names must stay distinct (a clash would read as one customer twice)
    seen: set[str] = set()
    for row in customers:
        while row["data"]["name"] in seen:
            row["data"]["name"] += "分厂"
        seen.add(row["data"]["name"])

    dealers = []
    for i in range(50):
        region, city = region_and_city(rng)
        tier = ["strategic", "tier1", "tier1", "tier2", "tier2", "tier2", "authorized"][i % 7]
        target = {"strategic": 20_000_000, "tier1": 8_000_000, "tier2": 3_000_000,
                  "authorized": 1_000_000}[tier]
        dealers.append({"ref": f"md{i + 1:03d}", "owner_role": "channel_manager", "data": {
            "name": f"{city}{DEALER_WORDS[i % len(DEALER_WORDS)]}机床销售有限公司"
                    f"{'' if i < 10 else f'（{i // 10 + 1}号网点）'}",
            "tier": tier, "region": region, "city": city,
            "contact_person": person(rng, i), "phone": _phone(rng, phones),
            "status": "active" if i % 12 else "probation",
            "signed_on": {"$days": -rng.randrange(60, 1500)}, "annual_target": target}})

    machines = []
    for i in range(60):
        model = rng.choice(list(MODELS))
        bought = -rng.randrange(40, 1400)
        cycle = rng.choice((3, 6, 6, 6, 12))
        data: dict[str, Any] = {
            "customer": {"$ref": f"mc{i % 50 + 1:03d}"}, "model": model,
            "serial_no": f"{model.split('_')[0].upper()}-{2020 + i % 5}-{1000 + i * 37}",
            "purchase_date": {"$days": bought},
            "warranty_end": {"$days": bought + 730}, "cycle_months": cycle,
            "status": "running" if i % 15 else "down"}
        if i % 3:
            data["dealer"] = {"$ref": f"md{i % 50 + 1:03d}"}
        if -bought > cycle * 30:   # serviced at least once: the next visit falls anywhere
            # from a little overdue to a full cycle ahead (some within the next 30 days)
            data["last_maintenance"] = {"$days": max(bought + 1, -rng.randrange(
                5, cycle * 30 + 10))}
        machines.append({"ref": f"mm{i + 1:03d}", "owner_role": "sales", "data": data})

    tickets = []
    for i in range(80):
        machine = i % 60
        customer = machine % 50
        kind = ["repair", "repair", "maintenance", "complaint", "repair", "maintenance",
                "installation"][i % 7]
        problem = PROBLEMS[(i * 3) % len(PROBLEMS)]
        if kind == "maintenance":
            problem = PROBLEMS[6]
        elif kind == "installation":
            problem = PROBLEMS[7]
        elif kind == "complaint":
            problem = PROBLEMS[8 + i % 2]
        status = "closed" if i < 50 else "resolved" if i < 60 else "in_progress" if i < 72 \
            else "new"
        opened = -rng.randrange(30, 24 * 200) if i < 72 else -rng.randrange(0, 4)
        data = {"customer": {"$ref": f"mc{customer + 1:03d}"},
                "machine": {"$ref": f"mm{machine + 1:03d}"}, "kind": kind,
                "priority": rng.choice(["urgent", "high", "normal", "normal", "low"]),
                "status": status, "subject": f"{problem[0]} {problem[1]}",
                "description": f"客户反映：{problem[0]}。", "opened_at": {"$hours": opened}}
        if status != "new":
            # four in five answered within 2 hours
            late = rng.random() < 0.2
            data["first_response_at"] = {"$hours": opened + (rng.randrange(3, 9) if late
                                                             else 1)}
        if status in ("resolved", "closed"):
            data["resolution"] = rng.choice(RESOLUTIONS)
            data["resolved_at"] = {"$hours": opened + rng.randrange(10, 28)}
        if status == "closed":
            data["satisfaction"] = rng.choice((10, 9, 9, 8, 8, 8, 7, 6, 5, 9))
            if data["satisfaction"] < 7:
                data["feedback"] = "响应慢，希望改进。"
        tickets.append({"ref": f"mt{i + 1:03d}", "owner_role": "field_engineer",
                        "data": data})

    orders = []
    for i in range(60):
        lines = []
        for model in rng.sample(list(MODELS), rng.randrange(1, 4)):
            lines.append({"product": model, "quantity": rng.randrange(1, 5),
                          "unit_price": MODELS[model] - rng.randrange(0, 20) * 1000})
        status = ["received", "received", "received", "shipped", "production"][i % 5]
        age = -rng.randrange(5, 300)
        data = {"customer": {"$ref": f"mc{(i * 7) % 50 + 1:03d}"}, "order_date": {"$days": age},
                "status": status, "promised_date": {"$days": age + 45}, "lines": lines,
                "discount": rng.choice((0, 0, 3, 5, 8, 10))}
        if i % 2:
            data["dealer"] = {"$ref": f"md{(i * 3) % 50 + 1:03d}"}
        if status in ("shipped", "received"):
            data["shipped_on"] = {"$days": min(age + 30, -2)}
            data["tracking_no"] = f"SF{rng.randrange(10**11, 10**12)}"
        if status == "received":
            data["received_on"] = {"$days": min(age + 34, -1)}
        orders.append({"ref": f"mo{i + 1:03d}", "owner_role": "sales", "data": data})

    tasks = []
    for row in tickets:
        if row["data"].get("satisfaction", 10) < 7:
            tasks.append({"ref": f"mk{len(tasks) + 1:03d}", "owner_role": "service_manager",
                          "data": {"title": f"回访不满意客户 Follow up: {row['data']['subject']}",
                                   "kind": "low_satisfaction",
                                   "status": "done" if len(tasks) % 2 else "open",
                                   "ticket": {"$ref": row["ref"]},
                                   "customer": row["data"]["customer"],
                                   "due_date": {"$days": -len(tasks)},
                                   **({"outcome": "已致电客户并致歉，安排主管回访。"}
                                      if len(tasks) % 2 else {})}})
    return {"customer": customers, "dealer": dealers, "installed_machine": machines,
            "service_ticket": tickets, "sales_order": orders, "task": tasks}
