"""Messages of the workflow engine in English and Chinese, and the problem type that uses
them (expression problems keep the form engine's own messages)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from form_engine.errors import Problem

MESSAGES: dict[str, tuple[str, str]] = {
    "flow_unknown_option": ("{name} is not an option of a {type} node.",
                            "{name} 不是{type}节点的选项。"),
    "flow_missing_option": ("{name} is required here.", "此处必须填写 {name}。"),
    "flow_unknown_node_type": ("{name!r} is not a node type (known: {known}).",
                               "“{name}”不是节点类型（可用：{known}）。"),
    "flow_schema": ("{detail}", "{detail}"),
    "flow_duplicate_node": ("Node key {key} is used twice.", "节点键 {key} 重复。"),
    "flow_one_start": ("A flow has exactly one start node; this one has {count}.",
                       "流程必须有且只有一个开始节点，当前有 {count} 个。"),
    "flow_no_end": ("A flow needs an end node.", "流程需要一个结束节点。"),
    "flow_unknown_node": ("There is no node {key}.", "不存在节点 {key}。"),
    "flow_unreachable": ("Node {key} cannot be reached from the start.",
                         "从开始节点无法到达节点 {key}。"),
    "flow_no_exit": ("From node {key} the flow can never reach an end (a loop without "
                     "an exit).", "从节点 {key} 出发永远无法到达结束节点（没有出口的循环）。"),
    "flow_not_a_join": ("{key} must be a join node.", "{key} 必须是汇聚节点。"),
    "flow_branch_misses_join": ("Branch {key} never reaches the join {join}.",
                                "分支 {key} 无法到达汇聚节点 {join}。"),
    "flow_nobody_policy": (
        "Node {node} may find no approver (roles, heads or managers can be missing): say "
        "what happens then in on_nobody (skip, auto_approve, auto_reject, admin).",
        "节点 {node} 可能找不到审批人（角色、部门负责人或上级可能为空）：请在 on_nobody 中"
        "设置此时的处理方式（skip、auto_approve、auto_reject、admin）。"),
    "flow_no_such_form": ("The app has no published form {form}.",
                          "应用中没有已发布的表单 {form}。"),
    "flow_unknown_field": ("{field} is not a field of the form.", "{field} 不是表单的字段。"),
    "flow_field_not_fillable": (
        "{field} is worked out by the form (or is only layout): nobody can fill it in.",
        "{field} 由表单自动计算（或仅用于布局），无法填写。"),
    "flow_required_not_editable": (
        "{field} must be filled in at this node, so it cannot be {access} here.",
        "{field} 是此节点必填的字段，不能设为 {access}。"),
    "flow_no_such_user": ("There is no user {value} in this organisation.",
                          "本组织中没有用户 {value}。"),
    "flow_not_a_user_field": ("{field} is not a user field of the form.",
                              "{field} 不是表单的成员字段。"),
    "flow_not_an_email_field": ("{field} is not an e-mail field of the form.",
                                "{field} 不是表单的邮箱字段。"),
    "flow_not_a_date_field": ("{field} is not a date field of the form.",
                              "{field} 不是表单的日期字段。"),
    "flow_newly_met_updated_only": (
        "newly_met is for updated rules: only a change can make a condition start to hold.",
        "newly_met 仅用于“更新时”触发的规则：只有修改记录才能使条件从不满足变为满足。"),
    "flow_bad_cron": ("{cron!r} is not a cron schedule (minute hour day month weekday).",
                      "“{cron}”不是有效的 cron 计划（分 时 日 月 周）。"),
}


@dataclass(frozen=True)
class FlowProblem(Problem):
    def message(self, locale: str = "en") -> str:
        entry = MESSAGES.get(self.code)
        if entry is None:
            return super().message(locale)
        params: dict[str, Any] = dict(self.params)
        try:
            return (entry[1] if locale == "zh" else entry[0]).format(**params)
        except (KeyError, IndexError, ValueError):
            return entry[1] if locale == "zh" else entry[0]
