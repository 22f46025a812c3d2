"""Words on the web pages, in English and Chinese. Every string a page shows comes from
here (or from the error catalogue, `crm_platform.i18n`) through `ui_text`."""

from __future__ import annotations

from typing import Any

UI: dict[str, dict[str, str]] = {
    "app_name": {"en": "Loom", "zh": "Loom"},
    "sign_in": {"en": "Sign in", "zh": "登录"},
    "sign_out": {"en": "Sign out", "zh": "退出登录"},
    "tenant": {"en": "Tenant", "zh": "租户"},
    "email": {"en": "E-mail", "zh": "邮箱"},
    "password": {"en": "Password", "zh": "密码"},
    "roles": {"en": "Roles", "zh": "角色"},
    "platform_admin": {"en": "Platform administrator", "zh": "平台管理员"},
    "error_title": {"en": "Error {status}", "zh": "错误 {status}"},
    "back_home": {"en": "Back to the start page", "zh": "返回首页"},
    "skip_to_content": {"en": "Skip to content", "zh": "跳到正文"},
    # the shell
    "apps": {"en": "Apps", "zh": "应用"},
    "no_apps": {"en": "No apps yet.", "zh": "还没有应用。"},
    "language": {"en": "Language", "zh": "语言"},
    "switch_language": {"en": "中文", "zh": "English"},
    "switch_language_label": {"en": "切换到中文", "zh": "Switch to English"},
    "notifications": {"en": "Notifications", "zh": "通知"},
    "notifications_unread": {"en": "Notifications, {count} unread",
                             "zh": "通知，{count} 条未读"},
    "account_menu": {"en": "Account", "zh": "账户"},
    "api_reference": {"en": "API reference", "zh": "API 参考"},
    "main_navigation": {"en": "Main", "zh": "主导航"},
    # home
    "home": {"en": "Home", "zh": "首页"},
    "welcome": {"en": "Good to see you, {name}", "zh": "{name}，您好"},
    "my_apps": {"en": "My apps", "zh": "我的应用"},
    "forms_count": {"en": "{count} forms", "zh": "{count} 个表单"},
    "no_forms": {"en": "No forms you can open yet.", "zh": "还没有您可以打开的表单。"},
    "my_tasks": {"en": "Waiting for me", "zh": "待我审批"},
    "no_tasks": {"en": "Nothing is waiting for you.", "zh": "没有待您处理的审批。"},
    "task_step": {"en": "Step: {node}", "zh": "节点：{node}"},
    "task_since": {"en": "since {when}", "zh": "{when} 起"},
    "task_due": {"en": "due {when}", "zh": "截止 {when}"},
    "my_recent": {"en": "Recently changed by me", "zh": "我最近修改的记录"},
    "no_recent": {"en": "You have not changed any records yet.",
                  "zh": "您还没有修改过记录。"},
    "record_number": {"en": "Record {id}", "zh": "记录 {id}"},
    # notifications
    "mark_all_read": {"en": "Mark all as read", "zh": "全部标为已读"},
    "mark_read": {"en": "Mark as read", "zh": "标为已读"},
    "no_notifications": {"en": "No notifications.", "zh": "没有通知。"},
    "unread": {"en": "Unread", "zh": "未读"},
    "notice_task": {"en": "A task waits for you at “{node}”", "zh": "有一项审批在“{node}”等您处理"},
    "notice_approved": {"en": "Your request was approved", "zh": "您的申请已通过"},
    "notice_rejected": {"en": "Your request was rejected", "zh": "您的申请被驳回"},
    "notice_returned": {"en": "Your request was returned to you", "zh": "您的申请被退回"},
    "notice_withdrawn": {"en": "A request was withdrawn", "zh": "一项申请已撤回"},
    "notice_timeout": {"en": "A task ran past its deadline", "zh": "一项审批已超时"},
    "notice_reminder": {"en": "Reminder", "zh": "提醒"},
    "notice_other": {"en": "Notice", "zh": "通知"},
    # API reference
    "api_reference_intro": {
        "en": "Every operation of Loom's REST API, from the same OpenAPI document that "
              "clients read ({link}). Each app's forms have their own typed document at "
              "/api/v1/apps/{{app}}/openapi.json.",
        "zh": "Loom REST API 的全部操作，与客户端读取的 OpenAPI 文档相同（{link}）。"
              "每个应用的表单另有带类型的文档：/api/v1/apps/{{app}}/openapi.json。"},
    "request_body": {"en": "Request body", "zh": "请求体"},
    "responses": {"en": "Responses", "zh": "响应"},
    "parameters": {"en": "Parameters", "zh": "参数"},
    "required": {"en": "required", "zh": "必填"},
}


def ui_text(key: str, locale: str, **params: Any) -> str:
    entry = UI.get(key)
    if entry is None:
        return key
    return (entry.get(locale) or entry["en"]).format(**params)
