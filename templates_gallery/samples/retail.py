"""Sample records of the retail template: members with a spread of spending habits (so
every RFM segment shows up), their purchases over the last 400 days, points redemptions,
complaints, campaigns and a few member tasks."""

from __future__ import annotations

import random
from typing import Any

from templates_gallery.samples.names import person

STORES = ["sh_nanjing_rd", "sh_xujiahui", "hz_wulin", "sz_coastal", "cd_taikoo", "online"]
PRODUCTS = {
    "apparel": [("羊毛大衣", 1299), ("真丝衬衫", 699), ("牛仔裤", 399), ("针织开衫", 459),
                ("Cotton T-shirt", 159)],
    "shoes": [("真皮短靴", 899), ("运动跑鞋", 659), ("乐福鞋", 729)],
    "bags": [("托特包", 1580), ("双肩包", 499), ("Leather wallet", 329)],
    "beauty": [("精华液 30ml", 580), ("口红", 260), ("面霜 50ml", 420)],
    "accessories": [("羊绒围巾", 399), ("银质耳环", 299), ("太阳镜", 560)],
}
# (purchases, days since the last one, spend per purchase): one habit per member, so the
# RFM segments all appear — loyal big spenders, new big spenders, lapsed ones, sleepers …
HABITS = [(8, 10, 2000), (5, 40, 1500), (1, 15, 6000), (4, 150, 2500), (1, 200, 6000),
          (4, 20, 300), (1, 25, 400), (5, 120, 300), (1, 130, 300), (2, 95, 500), (0, 0, 0)]
REWARDS = [("50 元代金券", 500), ("品牌帆布袋", 1200), ("保温杯", 2500), ("香氛礼盒", 4000),
           ("羊绒围巾", 6000), ("旅行箱", 12000)]
COMPLAINTS = ["衣服洗后缩水严重。", "店员服务态度冷淡。", "快递三天未送达。",
              "促销价格与宣传不符。", "退货申请一直未处理。", "The zip broke after a week."]
CAMPAIGN_NAMES = ["春季新品", "会员日", "618 大促", "七夕礼遇", "中秋礼盒", "双十一预热",
                  "双十二返场", "年货节", "老客回馈", "沉睡唤醒", "生日月礼遇", "积分加倍周"]


def _phone(rng: random.Random, used: set[str]) -> str:
    while True:
        number = f"+86{rng.choice(('138', '139', '136', '150', '188'))}" \
                 f"{rng.randrange(10**7, 10**8)}"
        if number not in used:
            used.add(number)
            return number


def _tier(total: int) -> str:
    return ("platinum" if total >= 50000 else "gold" if total >= 10000
            else "silver" if total >= 3000 else "normal")


def records(rng: random.Random) -> dict[str, list[dict[str, Any]]]:
    phones: set[str] = set()
    members, purchases = [], []
    for i in range(60):
        count, last, spend = HABITS[i % len(HABITS)]
        ref = f"rm{i + 1:03d}"
        rows = []
        for n in range(count):
            day = -(last + n * rng.randrange(20, 45))
            category = rng.choice(list(PRODUCTS))
            lines, total = [], 0
            while total < spend * 0.7:
                product, price = rng.choice(PRODUCTS[category])
                qty = rng.randrange(1, 3)
                lines.append({"product": product, "category": category, "quantity": qty,
                              "unit_price": price})
                total += qty * price
                category = rng.choice(list(PRODUCTS))
            rows.append((day, lines, total))
        spent = sum(total for _day, _lines, total in rows)
        members.append({"ref": ref, "owner_role": "store_clerk", "data": {
            "phone": _phone(rng, phones), "name": person(rng, i),
            "gender": "f" if i % 3 else "m", "tier": _tier(spent),
            "points": int(spent) // 2 if spent else rng.randrange(0, 200),
            "birthday": {"$days": -(365 * rng.randrange(20, 55) + rng.randrange(0, 365))},
            "home_store": STORES[i % len(STORES)],
            "joined_on": {"$days": -rng.randrange(max(last + count * 45, 30), 900)},
            "source": rng.choice(["store", "store", "mini_program", "tmall", "douyin"]),
            "marketing_consent": i % 9 != 0}})
        for day, lines, _total in rows:
            purchases.append({"ref": f"rp{len(purchases) + 1:03d}", "owner_role": "store_clerk",
                              "data": {"member": {"$ref": ref}, "purchase_date": {"$days": day},
                                       "store": STORES[i % len(STORES)],
                                       "channel": rng.choice(["store", "store", "mini_program",
                                                              "tmall"]),
                                       "lines": lines,
                                       "payment": rng.choice(["wechat_pay", "alipay", "card"])}})

    redemptions = []
    for i in range(50):
        reward, points = REWARDS[i % len(REWARDS)]
        redemptions.append({"ref": f"rr{i + 1:03d}", "owner_role": "store_clerk", "data": {
            "member": {"$ref": f"rm{(i * 7) % 60 + 1:03d}"}, "points": points,
            "reward": reward, "store": STORES[i % len(STORES)],
            "status": ["delivered", "delivered", "approved", "rejected", "pending"][i % 5]
            if points >= 5000 else ["delivered", "approved"][i % 2]}})

    complaints = []
    for i in range(50):
        status = ["closed", "closed", "resolved", "processing", "new"][i % 5]
        data: dict[str, Any] = {
            "member": {"$ref": f"rm{(i * 11) % 60 + 1:03d}"},
            "store": STORES[i % len(STORES)],
            "category": ["quality", "service", "delivery", "price", "return"][i % 5],
            "severity": ["normal", "normal", "low", "high"][i % 4], "status": status,
            "description": COMPLAINTS[i % len(COMPLAINTS)]}
        if status in ("resolved", "closed"):
            data["resolution"] = rng.choice(["已为顾客换货并致歉。", "退还差价并赠送优惠券。",
                                             "Refunded in full."])
            data["compensation"] = rng.choice((0, 50, 100, 200))
        if status == "closed":
            data["satisfaction"] = rng.randrange(2, 6)
        complaints.append({"ref": f"rc{i + 1:03d}", "owner_role": "service", "data": data})

    campaigns = []
    segments = ["important_value", "important_develop", "important_retain",
                "important_winback", "general_value", "general_develop", "general_retain",
                "sleeping", "all"]
    for i in range(50):
        start = -rng.randrange(-20, 700)
        reach = rng.randrange(500, 20000)
        conversions = int(reach * rng.uniform(0.01, 0.12))
        status = "planned" if start > 0 else "running" if start > -10 else "finished"
        data = {"name": f"{CAMPAIGN_NAMES[i % len(CAMPAIGN_NAMES)]} #{i // 12 + 1}",
                "channel": ["sms", "wechat", "mini_program", "in_store", "douyin", "email"][
                    i % 6],
                "target_segment": segments[i % len(segments)], "status": status,
                "start_date": {"$days": start}, "end_date": {"$days": start + 14},
                "budget": rng.randrange(5, 80) * 1000}
        if status != "planned":
            data.update({"reach": reach, "conversions": conversions,
                         "revenue": conversions * rng.randrange(200, 900)})
        campaigns.append({"ref": f"rg{i + 1:03d}", "owner_role": "marketing", "data": data})

    tasks = [{"ref": f"rk{n + 1:03d}", "owner_role": "store_clerk", "data": {
        "title": f"唤醒沉睡会员 Reactivate: {members[i]['data']['name']}",
        "kind": "reactivation", "member": {"$ref": members[i]["ref"]},
        "status": "done" if n % 3 == 0 else "open", "due_date": {"$days": 7 - n},
        **({"outcome": "已电话联系，发送回店礼券。"} if n % 3 == 0 else {})}}
        for n, i in enumerate(i for i in range(60) if HABITS[i % len(HABITS)][1] >= 90)]
    return {"member": members, "purchase": purchases, "points_redemption": redemptions,
            "member_complaint": complaints, "campaign": campaigns, "task": tasks}
