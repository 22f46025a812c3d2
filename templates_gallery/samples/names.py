"""Pools of realistic names for sample records: Chinese and English companies, people,
cities and regions, phones and e-mails. Deterministic given the `random.Random` passed in."""

from __future__ import annotations

import random

CITIES = {  # region -> cities
    "north": ["北京", "天津", "石家庄", "太原", "济南"],
    "east": ["上海", "杭州", "苏州", "南京", "宁波", "合肥"],
    "south": ["广州", "深圳", "厦门", "福州", "南宁"],
    "west": ["成都", "重庆", "西安", "昆明", "兰州"],
    "central": ["武汉", "长沙", "郑州", "南昌"],
}
REGIONS = list(CITIES)
COMPANY_WORDS = ["华信", "远航", "锦程", "恒达", "新元", "天成", "博远", "盛世", "启明", "瑞丰",
                 "金桥", "东方", "中科", "海纳", "鼎盛", "同创", "宏图", "睿思", "凯德", "安泰"]
COMPANY_SUFFIXES = ["科技有限公司", "贸易有限公司", "制造有限公司", "信息技术有限公司",
                    "机械设备有限公司", "商贸有限公司", "实业有限公司", "电子有限公司"]
ENGLISH_COMPANIES = ["Northwind Trading", "Acme Robotics", "Blue Harbor Foods",
                     "Summit Logistics", "Greenleaf Retail", "Brightpath Learning",
                     "Ironwood Machining", "Silverline Apparel", "Redwood Analytics",
                     "Oakridge Schools", "Harborview Hotels", "Pioneer Plastics"]
SURNAMES = ["王", "李", "张", "刘", "陈", "杨", "赵", "黄", "周", "吴", "徐", "孙", "胡", "朱",
            "高", "林", "何", "郭", "马", "罗"]
GIVEN = ["伟", "芳", "娜", "敏", "静", "磊", "洋", "艳", "勇", "军", "杰", "涛", "婷", "浩",
         "欣", "宇", "晨", "佳", "思", "文", "博", "雪", "鹏", "丽"]
ENGLISH_PEOPLE = ["Emily Chen", "James Miller", "Sophie Martin", "Daniel Wong",
                  "Olivia Brown", "Lucas Schmidt", "Grace Lee", "Henry Walker"]
POSITIONS = ["总经理", "采购经理", "财务总监", "IT 主管", "运营总监", "设备科长",
             "Purchasing Manager", "CTO", "Office Manager"]


def company(rng: random.Random, index: int, city: str | None = None) -> str:
    """A company name: three in four Chinese (city + word + suffix), one English."""
    if index % 4 == 3:
        return f"{ENGLISH_COMPANIES[index // 4 % len(ENGLISH_COMPANIES)]} {index // 48 + 1}"
    return (f"{city or rng.choice(CITIES[rng.choice(REGIONS)])}{rng.choice(COMPANY_WORDS)}"
            f"{rng.choice(COMPANY_SUFFIXES)}")


def person(rng: random.Random, index: int) -> str:
    """A person's name: four in five Chinese (two or three characters), one English."""
    if index % 5 == 4:
        return ENGLISH_PEOPLE[index // 5 % len(ENGLISH_PEOPLE)]
    return rng.choice(SURNAMES) + rng.choice(GIVEN) + (rng.choice(GIVEN) if index % 2 else "")


def region_and_city(rng: random.Random) -> tuple[str, str]:
    region = rng.choice(REGIONS)
    return region, rng.choice(CITIES[region])


def mobile(rng: random.Random) -> str:
    """A Chinese mobile number in E.164 (the phone field's stored form)."""
    prefix = rng.choice(("138", "139", "136", "135", "186", "188", "158", "159", "150"))
    return f"+86{prefix}{rng.randrange(10**7, 10**8)}"


def email(index: int, domain: str = "example.com") -> str:
    return f"contact{index + 1}@{domain}"
