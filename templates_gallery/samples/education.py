"""Sample records of the education template: student leads with their follow-ups, trial
lessons (some tomorrow), enrollment contracts (some nearly used up or ending soon) and
refund requests on both sides of the approval threshold."""

from __future__ import annotations

import random
from typing import Any

from templates_gallery.samples.names import GIVEN, SURNAMES

COURSES = {"math": 180, "english": 200, "physics": 220, "chinese": 160, "coding": 260,
           "art": 150}
SOURCES = ["referral", "referral", "douyin", "xiaohongshu", "wechat", "flyer", "walk_in",
           "web"]
GRADES = ["g1", "g2", "g3", "g4", "g5", "g6", "g7", "g8", "g9", "g10", "g11"]
CAMPUSES = ["xuhui", "pudong", "minhang", "online"]
NOTES = ["家长关注提分效果，已发送课程介绍。", "孩子周末有空，倾向周六上午。",
         "对价格敏感，介绍了优惠。", "已加微信，发送试听视频。",
         "Parent asked about class size.", "约定下周再联系。"]
REASONS = ["moving", "schedule", "quality", "health", "other"]


def _child(rng: random.Random) -> tuple[str, str]:
    surname = rng.choice(SURNAMES)
    child = surname + rng.choice(GIVEN) + rng.choice(GIVEN)
    parent = surname + rng.choice(GIVEN) + ("妈妈" if rng.random() < 0.6 else "爸爸")
    return child, parent


def _phone(rng: random.Random, used: set[str]) -> str:
    while True:
        number = f"+86{rng.choice(('139', '186', '158', '135'))}{rng.randrange(10**7, 10**8)}"
        if number not in used:
            used.add(number)
            return number


def records(rng: random.Random) -> dict[str, list[dict[str, Any]]]:
    phones: set[str] = set()
    leads = []
    for i in range(60):
        child, parent = _child(rng)
        status = ["new", "contacted", "contacted", "trial_booked", "enrolled", "enrolled",
                  "lost"][i % 7]
        last = -rng.randrange(0, 20)
        follow_ups = [{"date": f"{(i + n) % 28 + 1}", "method": rng.choice(
            ["call", "wechat", "visit", "sms"]), "summary": rng.choice(NOTES)}
            for n in range(0 if status == "new" else rng.randrange(1, 4))]
        data: dict[str, Any] = {
            "student": child, "parent": parent, "parent_phone": _phone(rng, phones),
            "source": SOURCES[i % len(SOURCES)], "grade": rng.choice(GRADES),
            "intended_course": rng.choice(list(COURSES)), "campus": rng.choice(CAMPUSES),
            "status": status}
        if follow_ups:
            data["last_follow_up"] = {"$days": last}
            data["next_follow_up"] = {"$days": last + rng.randrange(3, 10)}
            # markers are read at the top level only: rows carry fixed recent dates
            data["follow_ups"] = [{**row, "date": f"2025-{(i % 12) + 1:02d}-{row['date']:0>2}"}
                                  for row in follow_ups]
        if status == "lost":
            data["lost_reason"] = rng.choice(["价格太高", "离家太远", "选择了其他机构",
                                              "Schedule did not fit"])
        leads.append({"ref": f"el{i + 1:03d}", "owner_role": "course_consultant",
                      "data": data})

    trials = []
    for i in range(50):
        lead = leads[i % 60]
        day = [1, 1, 2, 3, 5, -1, -3, -6, -10, -15][i % 10]
        status = "booked" if day > 0 else ["attended", "attended", "no_show", "cancelled"][
            i % 4]
        data = {"lead": {"$ref": lead["ref"]}, "course": lead["data"]["intended_course"],
                "lesson_date": {"$days": day},
                "lesson_time": rng.choice(["09:00", "10:30", "14:00", "16:00", "18:30"]),
                "campus": lead["data"]["campus"], "status": status}
        if status == "attended":
            data["interest"] = rng.randrange(2, 6)
            data["feedback"] = rng.choice(["基础扎实，建议报提高班。", "注意力集中，课堂互动积极。",
                                           "Needs to work on vocabulary."])
        trials.append({"ref": f"et{i + 1:03d}", "owner_role": "course_consultant",
                       "data": data})

    enrollments = []
    for i in range(55):
        lead = leads[i % 60]
        course = rng.choice(list(COURSES))
        bought = rng.choice((24, 36, 48, 48, 72, 96))
        used = [bought - 2, bought - 3, bought // 2, bought // 3, 5, bought - 10, bought][
            i % 7]
        start = -rng.randrange(20, 330)
        end = start + rng.choice((180, 365, 365))
        status = "completed" if used == bought else "active"
        if end < 0 and status == "active":
            end = rng.randrange(5, 60)
        enrollments.append({"ref": f"ee{i + 1:03d}", "owner_role": "course_consultant",
                            "data": {"lead": {"$ref": lead["ref"]},
                                     "student": lead["data"]["student"],
                                     "parent_phone": lead["data"]["parent_phone"],
                                     "course": course, "campus": lead["data"]["campus"],
                                     "sessions_bought": bought, "sessions_used": used,
                                     "amount": bought * COURSES[course],
                                     "start_date": {"$days": start},
                                     "end_date": {"$days": end}, "status": status}})

    refunds = []
    for i in range(50):
        enrollment = enrollments[i % 55]["data"]
        left = enrollment["sessions_bought"] - enrollment["sessions_used"]
        sessions = max(1, min(left, rng.randrange(4, 40))) if left else 1
        amount = sessions * COURSES[enrollment["course"]]
        status = ["paid", "paid", "approved", "rejected", "draft"][i % 5]
        data = {"enrollment": {"$ref": enrollments[i % 55]["ref"]},
                "student": enrollment["student"], "sessions_refunded": sessions,
                "amount": amount, "reason": REASONS[i % len(REASONS)],
                "detail": rng.choice(["家庭搬迁到外地，无法继续上课。", "与学校课程时间冲突。",
                                      "对授课老师不满意，申请退剩余课时。", "孩子生病需长期休养。",
                                      "Family relocating abroad."]),
                "status": status}
        if status == "paid":
            data["paid_on"] = {"$days": -rng.randrange(1, 120)}
        refunds.append({"ref": f"er{i + 1:03d}", "owner_role": "course_consultant",
                        "data": data})
    return {"student_lead": leads, "trial_lesson": trials, "enrollment": enrollments,
            "refund": refunds}
