"""English and Chinese messages for the platform's error codes and UI strings.

A catalog is a plain mapping `code -> {locale: template}`; templates use `str.format`
placeholders filled from the error's params. An unknown code falls back to the code
itself so a missing translation is visible, never a crash.
"""

from __future__ import annotations

from typing import Any

from crm_platform.errors import LoomError

LOCALES = ("en", "zh")

MESSAGES: dict[str, dict[str, str]] = {
    # request-level errors
    "bad_request": {"en": "The request is not valid.", "zh": "请求无效。"},
    "malformed_json": {
        "en": "The request body is not valid JSON: {detail}.",
        "zh": "请求体不是有效的 JSON：{detail}。",
    },
    "json_required": {
        "en": "This endpoint takes a JSON body (Content-Type: application/json).",
        "zh": "此接口需要 JSON 请求体（Content-Type: application/json）。",
    },
    "unsupported_media_type": {
        "en": "Content-Type {content_type} is not accepted here.",
        "zh": "此处不接受 Content-Type {content_type}。",
    },
    "payload_too_large": {
        "en": "The request body is larger than the limit of {limit} bytes.",
        "zh": "请求体超过了 {limit} 字节的上限。",
    },
    "validation_failed": {
        "en": "The request has {count} problem(s); see fields.",
        "zh": "请求中有 {count} 处问题，详见 fields。",
    },
    "unauthorized": {
        "en": "Authentication is required: send a bearer token or sign in.",
        "zh": "需要身份验证：请提供 Bearer 令牌或先登录。",
    },
    "invalid_token": {
        "en": "The API token is unknown, revoked or expired.",
        "zh": "API 令牌不存在、已吊销或已过期。",
    },
    "invalid_credentials": {
        "en": "Tenant, e-mail or password is wrong.",
        "zh": "租户、邮箱或密码错误。",
    },
    "tenant_suspended": {
        "en": "This tenant is suspended; contact your platform administrator.",
        "zh": "该租户已被停用，请联系平台管理员。",
    },
    "user_inactive": {"en": "This user is deactivated.", "zh": "该用户已停用。"},
    "too_many_requests": {
        "en": "Too many attempts; try again in {seconds} seconds.",
        "zh": "尝试次数过多，请在 {seconds} 秒后重试。",
    },
    "login_throttled": {
        "en": "Too many failed sign-ins; try again in {seconds} seconds.",
        "zh": "登录失败次数过多，请在 {seconds} 秒后重试。",
    },
    "forbidden": {
        "en": "You do not have permission to do this.",
        "zh": "您没有执行此操作的权限。",
    },
    "platform_admin_required": {
        "en": "Only platform administrators may do this.",
        "zh": "只有平台管理员可以执行此操作。",
    },
    "tenant_admin_required": {
        "en": "Only tenant administrators may do this.",
        "zh": "只有租户管理员可以执行此操作。",
    },
    "designer_required": {
        "en": "Only tenant administrators and designers may change apps and forms.",
        "zh": "只有租户管理员和设计者可以修改应用和表单。",
    },
    "rollup_filter_broken": {
        "en": "Another form's roll-up filters on what this change removes ({count} "
              "problem(s)); change its filter first.",
        "zh": "其他表单的汇总字段按此次修改删除的内容筛选（{count} 处问题），请先修改其筛选条件。",
    },
    "automation_failed": {
        "en": "The automation rule {rule} could not finish; see fields.",
        "zh": "自动化规则 {rule} 未能完成，详见 fields。",
    },
    "definition_invalid": {
        "en": "The form definition has {count} problem(s); see fields.",
        "zh": "表单定义中有 {count} 处问题，详见 fields。",
    },
    "breaking_change": {
        "en": "Publishing would break existing records ({count} problem(s)); say how to migrate.",
        "zh": "发布会影响已有记录（{count} 处问题），请说明迁移方式。",
    },
    "key_is_fixed": {
        "en": "{field} cannot change from {value}: a form's key is permanent.",
        "zh": "{field} 不能从 {value} 修改：表单标识不可更改。",
    },
    "name_required": {"en": "Give it a name, in English or Chinese.",
                      "zh": "请填写名称（英文或中文）。"},
    "bad_key": {"en": "“{value}” cannot be a key: use lower-case letters, digits and _, "
                      "starting with a letter.",
                "zh": "“{value}”不能作为键：只能用小写字母、数字和下划线，并以字母开头。"},
    "draft_changed": {
        "en": "{name} changed this draft at {at}: reload it to see their change, then make "
              "yours again.",
        "zh": "{name} 在 {at} 修改了此草稿：请重新加载查看对方的修改，再重新进行您的修改。",
    },
    "nothing_to_undo": {"en": "There is nothing to undo.", "zh": "没有可以撤销的操作。"},
    "nothing_to_redo": {"en": "There is nothing to redo.", "zh": "没有可以重做的操作。"},
    "nothing_to_publish": {
        "en": "The draft is the same as published version {version}.",
        "zh": "草稿与已发布的第 {version} 版相同。",
    },
    "no_published_version": {
        "en": "Form {form} has no published version yet.",
        "zh": "表单 {form} 还没有已发布的版本。",
    },
    "precondition_failed": {
        "en": "The record changed since you read it (now version {current}); reload and retry.",
        "zh": "记录在您读取后已被修改（当前版本 {current}），请刷新后重试。",
    },
    "stale_record": {
        "en": "The record changed since you read it (now version {current}); reload and retry.",
        "zh": "记录在您读取后已被修改（当前版本 {current}），请刷新后重试。",
    },
    "changed_meanwhile": {
        "en": "The record was changed by someone else meanwhile; nothing was written. "
              "Reload it and try again.",
        "zh": "该记录在此期间已被他人修改，本次未写入。请刷新后重试。",
    },
    "batch_not_written": {
        "en": "Not written: {count} other item(s) of the batch failed, and the batch is all "
              "or nothing.",
        "zh": "未写入：本批中有 {count} 项失败，而本批要求全部成功或全部不写入。"},
    "batch_duplicate_item": {
        "en": "The same {keys} as item {item} of this batch.",
        "zh": "与本批第 {item} 项的 {keys} 相同。"},
    "duplicate_record_unseen": {
        "en": "A record you cannot see already has this value in a field that must be "
              "unique.",
        "zh": "一条您无权查看的记录的唯一字段已是该值。",
    },
    "not_unique_unseen": {
        "en": "{field} must be unique; a record you cannot see already has this value — "
              "ask {owner}.",
        "zh": "{field} 必须唯一，一条您无权查看的记录已使用该值，请联系{owner}。",
    },
    "possible_duplicate_unseen": {
        "en": "A record you cannot see looks like the same one (same {keys}). Ask whoever "
              "is named below, or confirm this is a different one with "
              "confirm_duplicate=true.",
        "zh": "一条您无权查看的记录似乎是同一条（{keys} 相同）。请联系下方所列人员，或以 "
              "confirm_duplicate=true 确认这是另一条。",
    },
    "duplicate_of_unseen": {
        "en": "{field} is the same as in a record you cannot see — ask {owner}.",
        "zh": "{field} 与一条您无权查看的记录相同，请联系{owner}。",
    },
    "duplicate_record": {
        "en": "Record {record} already has this value in a field that must be unique.",
        "zh": "记录 {record} 的唯一字段已是该值。",
    },
    "possible_duplicate": {
        "en": "Record {record} looks like the same one (same {keys}). Open it, or confirm "
              "this is a different one with confirm_duplicate=true.",
        "zh": "记录 {record} 似乎是同一条（{keys} 相同）。请打开它，或以 "
              "confirm_duplicate=true 确认这是另一条记录。",
    },
    "not_unique": {
        "en": "{field} must be unique; record {record} already has this value.",
        "zh": "{field} 必须唯一，记录 {record} 已使用该值。",
    },
    # flows
    "flow_no_such_form": {"en": "The app has no form {form}.", "zh": "应用中没有表单 {form}。"},
    "flow_form_is_fixed": {"en": "A flow stays with the form it was created for.",
                           "zh": "流程创建后不能更换所属表单。"},
    # approvals (the engine's refusals)
    "flow_admin_only": {"en": "Only an administrator may do this.",
                        "zh": "只有管理员可以执行此操作。"},
    "flow_already_running": {"en": "This record is already in an approval.",
                             "zh": "该记录已在审批中。"},
    "flow_bad_assignee": {"en": "Name another person (a user id) to hand this to.",
                          "zh": "请指定另一位成员（用户 ID）。"},
    "flow_empty_comment": {"en": "A comment needs some text.", "zh": "评论不能为空。"},
    "flow_entry_condition": {"en": "This record does not need this approval ({condition}).",
                             "zh": "该记录不满足此审批的发起条件（{condition}）。"},
    "flow_field_not_editable": {"en": "At this step you may not change: {names}.",
                                "zh": "此审批节点不能修改：{names}。"},
    "flow_fields_required": {"en": "Fill in before completing this step: {names}.",
                             "zh": "完成此节点前请填写：{names}。"},
    "flow_wrong_action": {
        "en": "Step {node} does not take {action}: approval steps are approved or rejected, "
              "handler steps are completed (or returned).",
        "zh": "节点 {node} 不能执行 {action}：审批节点可同意或驳回，办理节点只能完成（或退回）。"},
    "flow_no_such_task": {"en": "There is no such task.", "zh": "不存在该任务。"},
    "flow_not_an_earlier_node": {"en": "{node} is not a step this approval has passed.",
                                 "zh": "{node} 不是本审批已经过的节点。"},
    "flow_not_running": {"en": "This approval is no longer running ({status}).",
                         "zh": "该审批已不在进行中（{status}）。"},
    "flow_not_your_task": {"en": "This task is someone else's.", "zh": "这是他人的任务。"},
    "flow_submitter_only": {"en": "Only the person who submitted it may do this.",
                            "zh": "只有提交人可以执行此操作。"},
    "flow_task_closed": {"en": "This task is already {status}.",
                         "zh": "该任务已处理（{status}）。"},
    "flow_urged_recently": {
        "en": "The approvers were reminded less than an hour ago; try again in "
              "{retry_after} seconds.",
        "zh": "一小时内已催办过审批人；请在 {retry_after} 秒后再试。"},
    "flow_unknown_command": {"en": "Unknown action {command}.", "zh": "未知操作 {command}。"},
    "flow_not_published": {"en": "Flow {flow} has no published version yet.",
                           "zh": "流程 {flow} 还没有已发布的版本。"},
    "outbox_not_failed": {"en": "Only a failed entry can be retried (this one is {status}).",
                          "zh": "只有失败的条目可以重试（当前为 {status}）。"},
    # imports
    "import_bad_file": {"en": "This file cannot be imported.", "zh": "该文件无法导入。"},
    "import_empty_file": {"en": "The file is empty.", "zh": "文件是空的。"},
    "import_bad_encoding": {
        "en": "The file is not text in UTF-8, GBK / GB18030 or UTF-16 (is it a spreadsheet "
              "saved as something else?). Save it as CSV UTF-8 or XLSX; nothing was imported.",
        "zh": "文件不是 UTF-8、GBK/GB18030 或 UTF-16 编码的文本（是否另存成了其他格式？）。"
              "请另存为 CSV UTF-8 或 XLSX；未导入任何数据。"},
    "import_bad_csv": {"en": "Line {row} is not valid CSV ({detail}); nothing was imported.",
                       "zh": "第 {row} 行不是有效的 CSV（{detail}）；未导入任何数据。"},
    "import_job_lost": {
        "en": "The import could not be run: the worker running it stopped each time it was "
              "tried. Nothing was written; start it again.",
        "zh": "导入未能运行：每次尝试时执行它的后台进程都中断了。"
              "未写入任何数据，请重新发起导入。"},
    "import_bad_xlsx": {"en": "The file is not a readable XLSX workbook; nothing was imported.",
                        "zh": "文件不是可读取的 XLSX 工作簿；未导入任何数据。"},
    "import_xlsx_too_large": {
        "en": "The workbook unpacks to far more than its size ({detail}); nothing was "
              "imported. Save it again from Excel, or split it.",
        "zh": "该工作簿解压后远大于文件本身（{detail}）；未导入任何数据。"
              "请用 Excel 重新保存或拆分。"},
    "import_xlsx_unsafe": {
        "en": "The workbook's part {part} declares a DOCTYPE (XML entities), which a "
              "spreadsheet never needs; nothing was imported.",
        "zh": "工作簿的 {part} 部分声明了 DOCTYPE（XML 实体），电子表格不需要它；未导入任何数据。"},
    "import_no_header": {"en": "The first row must name the columns; it is empty.",
                         "zh": "第一行应为列名，但它是空的。"},
    "import_too_many_columns": {"en": "The sheet has more than {limit} columns.",
                                "zh": "表格超过 {limit} 列。"},
    "import_too_many_rows": {"en": "The sheet has more than {limit} rows; split it.",
                             "zh": "表格超过 {limit} 行，请拆分后导入。"},
    "import_ragged_row": {
        "en": "Row {row} has {cells} cells but the header has {columns} columns; nothing was "
              "imported.",
        "zh": "第 {row} 行有 {cells} 个单元格，而表头有 {columns} 列；未导入任何数据。"},
    "import_cell_too_large": {
        "en": "Row {row}, column {column} holds more than {limit} characters; nothing was "
              "imported.",
        "zh": "第 {row} 行第 {column} 列超过 {limit} 个字符；未导入任何数据。"},
    "import_formula_cell": {
        "en": "Row {row}, column {column} is a spreadsheet formula ({value}); formulas are "
              "not imported. Nothing was imported.",
        "zh": "第 {row} 行第 {column} 列是电子表格公式（{value}），公式不能导入；"
              "未导入任何数据。"},
    "import_unknown_columns": {
        "en": "These columns match no field: {columns}. Rename them to a field's name, or "
              "map them in `columns` (null to ignore).",
        "zh": "这些列没有对应的字段：{columns}。请改为字段名称，或在 columns 中指定"
              "（null 表示忽略）。"},
    "import_no_such_column": {"en": "`columns` names headers the file does not have: {column}.",
                              "zh": "columns 中的列在文件中不存在：{column}。"},
    "import_column_not_importable": {
        "en": "Column {column} maps to {field}, which is calculated or not a field; it "
              "cannot be imported.",
        "zh": "列 {column} 对应 {field}，它是计算字段或不是字段，不能导入。"},
    "import_field_not_writable": {"en": "Column {column}: you may not write {field}.",
                                  "zh": "列 {column}：您无权写入 {field}。"},
    "import_duplicate_column": {"en": "Column {column} maps to {field}, as an earlier one does.",
                                "zh": "列 {column} 与前面的列都对应 {field}。"},
    "import_no_columns": {"en": "No column of the file is imported.",
                          "zh": "文件中没有要导入的列。"},
    "import_bad_columns": {"en": "columns must be a JSON object of header -> field key or null.",
                           "zh": "columns 必须是 JSON 对象：列名 -> 字段键或 null。"},
    "import_bad_match_field": {"en": "{field} cannot identify records.",
                               "zh": "{field} 不能用来识别记录。"},
    "import_no_match_keys": {
        "en": "Mode {mode} needs fields that identify a record: give match_on, or add a dedup "
              "key or a unique field to the form.",
        "zh": "{mode} 模式需要识别记录的字段：请提供 match_on，或为表单设置查重字段或唯一字段。"},
    "import_existing_record_unseen": {
        "en": "A record you cannot see already has these {keys} — ask {owner}.",
        "zh": "一条您无权查看的记录已有相同的 {keys}，请联系{owner}。",
    },
    "import_existing_record": {
        "en": "Record {record} has the same {keys}; import with mode upsert or "
              "skip_duplicates.",
        "zh": "记录 {record} 的 {keys} 相同；请用 upsert 或 skip_duplicates 模式导入。"},
    "import_duplicate_row": {"en": "Same as row {row} of this file.",
                             "zh": "与本文件第 {row} 行重复。"},
    "import_no_such_record": {
        "en": "There is no record {record} of this form that you can see; clear the id "
              "to add the row as a new record.",
        "zh": "本表单中没有您可见的记录 {record}；清空编号即可将此行作为新记录导入。"},
    "import_update_forbidden": {"en": "You may not change record {record}, which this row "
                                      "matches.",
                                "zh": "该行匹配的记录 {record} 您无权修改。"},
    "import_write_failed": {
        "en": "Row {row} could not be written ({detail}); nothing was imported.",
        "zh": "第 {row} 行无法写入（{detail}）；未导入任何数据。"},
    "import_failed": {"en": "The import failed; nothing was written.",
                      "zh": "导入失败，未写入任何数据。"},
    "upload_expected": {"en": "Send the file as multipart/form-data in a part named file.",
                        "zh": "请以 multipart/form-data 上传，文件字段名为 file。"},
    "duplicate_of": {
        "en": "{field} is the same as in record {record}.",
        "zh": "{field} 与记录 {record} 相同。",
    },
    "idempotency_mismatch": {
        "en": "This Idempotency-Key was used for a different request; use a new key.",
        "zh": "该 Idempotency-Key 已用于另一个请求，请使用新的键。",
    },
    "bad_idempotency_key": {
        "en": "Idempotency-Key must be 1 to 200 visible ASCII characters.",
        "zh": "Idempotency-Key 必须是 1 到 200 个可见 ASCII 字符。",
    },
    "unknown_filter_field": {
        "en": "{field}: {value} is not a field of this form.",
        "zh": "{field}：{value} 不是此表单的字段。",
    },
    "operator_not_allowed": {
        "en": "{field}: operator {value} does not apply to this field; use one of {allowed}.",
        "zh": "{field}：运算符 {value} 不适用于该字段，可用：{allowed}。",
    },
    "not_groupable": {
        "en": "{field}: a board is grouped by a single-choice field, and {value} is not one.",
        "zh": "{field}：看板只能按单选字段分组，{value} 不是单选字段。",
    },
    "bad_filter_value": {
        "en": "{field}: {value} is not a value this field can hold.",
        "zh": "{field}：{value} 不是该字段可接受的值。",
    },
    "bad_filter": {
        "en": "{field} must be {detail}.",
        "zh": "{field} 格式错误：{detail}。",
    },
    "filter_too_deep": {
        "en": "{field}: groups nest at most {limit} levels.",
        "zh": "{field}：条件组最多嵌套 {limit} 层。",
    },
    "filter_too_large": {
        "en": "{field}: a filter has at most {limit} conditions.",
        "zh": "{field}：筛选条件最多 {limit} 个。",
    },
    "not_sortable": {
        "en": "{field}: {value} cannot be sorted on.",
        "zh": "{field}：不能按 {value} 排序。",
    },
    "unknown_action": {
        "en": "{action} is not something this task can do.",
        "zh": "此任务不能执行“{action}”。",
    },
    "view_change_forbidden": {
        "en": "Only its owner (and, for a shared view, a designer) may change this view.",
        "zh": "只有视图的创建者（共享视图还包括设计者）可以修改它。",
    },
    "record_create_forbidden": {
        "en": "Your roles may not create records in this form.",
        "zh": "您的角色不能在此表单中新建记录。",
    },
    "record_update_forbidden": {
        "en": "Your roles may see this record but not change it.",
        "zh": "您的角色可以查看但不能修改此记录。",
    },
    "record_delete_forbidden": {
        "en": "Your roles may see this record but not delete or restore it.",
        "zh": "您的角色可以查看但不能删除或恢复此记录。",
    },
    "record_claim_forbidden": {
        "en": "Your roles may not claim records from the pool of this form.",
        "zh": "您的角色不能从此表单的公海中领取记录。",
    },
    "already_claimed": {
        "en": "Someone has already claimed this record; it is no longer in the pool.",
        "zh": "这条记录已被他人领取，已不在公海中。",
    },
    "field_hidden": {
        "en": "{field} is hidden from your roles and cannot be written.",
        "zh": "{field} 对您的角色不可见，不能填写。",
    },
    "field_read_only": {
        "en": "{field} is read-only for your roles.",
        "zh": "{field} 对您的角色为只读。",
    },
    "user_inactive_owner": {
        "en": "{field} must be an active user.",
        "zh": "{field} 必须是有效用户。",
    },
    "record_locked": {
        "en": "The record is locked while an approval is pending.",
        "zh": "记录正在审批中，已被锁定。",
    },
    "bad_if_match": {
        "en": "If-Match must be an ETag this API issued, such as \"3\".",
        "zh": "If-Match 必须是本接口返回的 ETag，例如 \"3\"。",
    },
    "csrf_failed": {
        "en": "The form has expired or its CSRF token is missing; reload the page and retry.",
        "zh": "表单已过期或缺少 CSRF 令牌，请刷新页面后重试。",
    },
    "not_found": {"en": "Not found.", "zh": "未找到。"},
    "resource_not_found": {"en": "{resource} {id} was not found.", "zh": "未找到{resource} {id}。"},
    "method_not_allowed": {
        "en": "Method {method} is not allowed here.",
        "zh": "此处不允许使用 {method} 方法。",
    },
    "conflict": {
        "en": "The request conflicts with the current state.",
        "zh": "请求与当前状态冲突。",
    },
    "internal_error": {
        "en": "Something went wrong on our side; the error has been logged.",
        "zh": "服务器内部错误，已记录日志。",
    },
    # field-level codes (jsonschema keywords and domain checks)
    "required": {"en": "{field} is required.", "zh": "{field} 为必填项。"},
    "unknown_field": {"en": "{field} is not a known field.", "zh": "{field} 不是已知字段。"},
    "wrong_type": {
        "en": "{field} must be {expected}.",
        "zh": "{field} 的类型应为{expected}。",
    },
    "too_short": {
        "en": "{field} must be at least {limit} characters long.",
        "zh": "{field} 至少需要 {limit} 个字符。",
    },
    "too_long": {
        "en": "{field} must be at most {limit} characters long.",
        "zh": "{field} 最多 {limit} 个字符。",
    },
    "too_small": {"en": "{field} must be at least {limit}.", "zh": "{field} 不能小于 {limit}。"},
    "too_large": {"en": "{field} must be at most {limit}.", "zh": "{field} 不能大于 {limit}。"},
    "too_few_items": {
        "en": "{field} must have at least {limit} item(s).",
        "zh": "{field} 至少需要 {limit} 项。",
    },
    "too_many_items": {
        "en": "{field} must have at most {limit} item(s).",
        "zh": "{field} 最多 {limit} 项。",
    },
    "duplicate_items": {
        "en": "{field} must not repeat items.",
        "zh": "{field} 中不能有重复项。",
    },
    "not_one_of": {
        "en": "{field} must be one of: {allowed}.",
        "zh": "{field} 必须是以下之一：{allowed}。",
    },
    "bad_format": {
        "en": "{field} is not a valid {format}.",
        "zh": "{field} 不是有效的{format}。",
    },
    "bad_pattern": {
        "en": "{field} has characters that are not allowed here.",
        "zh": "{field} 含有不允许的字符。",
    },
    "invalid": {"en": "{field} is not valid.", "zh": "{field} 无效。"},
    "bad_cursor": {
        "en": "{field} is not a cursor this API issued.",
        "zh": "{field} 不是有效的分页游标。",
    },
    "bad_query_param": {
        "en": "{field} must be {expected}.",
        "zh": "{field} 的值应为{expected}。",
    },
    "taken": {
        "en": "{field} {value} is already in use.",
        "zh": "{field} {value} 已被使用。",
    },
    "reserved": {"en": "{field} {value} is reserved.", "zh": "{field} {value} 为保留值。"},
    "too_many_terms": {"en": "{field} may hold at most {limit} words.",
                       "zh": "{field} 最多 {limit} 个词。"},
    "nul_character": {"en": "{field} holds a NUL character (\\u0000), which cannot be stored.",
                      "zh": "{field} 含有无法保存的 NUL 字符（\\u0000）。"},
    "no_such_reference": {
        "en": "{field} refers to {resource} {value}, which does not exist.",
        "zh": "{field} 引用的{resource} {value} 不存在。",
    },
    "creates_cycle": {
        "en": "{field} would make a cycle: {resource} cannot report to itself.",
        "zh": "{field} 会形成循环：{resource}不能隶属于自身。",
    },
    "password_too_common": {
        "en": "{field} is too easy to guess: it is, or is close to, a commonly used password. "
              "A few unrelated words make a strong one.",
        "zh": "{field} 太容易被猜到：它是或接近常用密码。几个不相关的词组合起来会更安全。",
    },
    "password_too_weak": {
        "en": "{field} must have at least {limit} characters.",
        "zh": "{field} 至少需要 {limit} 个字符。",
    },
    "last_admin": {
        "en": "This is the last active administrator of the tenant; appoint another first.",
        "zh": "这是该租户最后一位有效管理员，请先指定其他管理员。",
    },
    "system_role": {
        "en": "Built-in role {value} cannot be changed or deleted.",
        "zh": "内置角色 {value} 不能修改或删除。",
    },
    "department_not_empty": {
        "en": "The department still has {children} sub-department(s) and {members} member(s).",
        "zh": "该部门仍有 {children} 个子部门和 {members} 名成员。",
    },
    # templates
    "bundle_too_large": {"en": "The template file is too large ({detail}; at most 8 MB).",
                         "zh": "模板文件过大（{detail}，最多 8 MB）。"},
    "bundle_not_utf8": {"en": "The template file is not UTF-8 text ({detail}).",
                        "zh": "模板文件不是 UTF-8 文本（{detail}）。"},
    "bundle_not_json": {"en": "The template file is not valid JSON: {detail}.",
                        "zh": "模板文件不是有效的 JSON：{detail}。"},
    "template_missing": {
        "en": "{field}: this template is built on template {value}, which this Loom does "
              "not have.",
        "zh": "{field}：该模板基于模板 {value}，而本系统没有该模板。"},
    "file_required": {"en": "Choose a file to upload.", "zh": "请选择要上传的文件。"},
    "template_job_lost": {
        "en": "The install could not run, though it was tried several times; nothing was "
              "installed. Try again, or tell your administrator.",
        "zh": "安装多次尝试仍未能运行，未安装任何内容。请重试，或联系管理员。"},
    "sample_ref_not_before": {
        "en": "{field} refers to sample record {value}, which is not made before it: no "
              "sample record has that ref, or it comes later (records are made form by form "
              "in the order of the forms, row by row).",
        "zh": "{field} 引用的示例记录 {value} 不在它之前创建：没有该 ref 的示例记录，或它排在后面"
              "（示例记录按表单顺序逐行创建）。"},
    "bundle_too_deep": {
        "en": "{field} nests objects and lists more than {limit} levels deep.",
        "zh": "{field} 中对象和列表嵌套超过 {limit} 层。"},
    "upgrade_changed": {
        "en": "The upgrade on offer changed since this page was shown (another file, or the "
              "app changed). Look at it again before applying it.",
        "zh": "自本页显示以来，待升级内容已变化（换了文件，或应用已修改）。请重新查看后再应用。"},
    "template_not_found": {"en": "There is no template {id}.", "zh": "没有模板 {id}。"},
    "not_from_template": {
        "en": "App {app} was not installed from a template, so there is nothing to upgrade.",
        "zh": "应用 {app} 不是由模板安装的，无从升级。"},
    "other_template": {
        "en": "App {app} was installed from template {installed}, not {offered}.",
        "zh": "应用 {app} 由模板 {installed} 安装，而不是 {offered}。"},
    "not_newer": {
        "en": "App {app} is at version {installed} of the template; {offered} is not newer.",
        "zh": "应用 {app} 已是模板的 {installed} 版，{offered} 并不更新。"},
    "unpublished_draft": {
        "en": "{field} has unpublished changes. Publish or discard them before upgrading, "
              "so the upgrade does not publish them unseen.",
        "zh": "{field} 有未发布的修改。请先发布或放弃，以免升级时把它们一并发布。"},
    "upgrade_conflicts": {
        "en": "The upgrade has {count} conflict(s): both you and the new version changed "
              "the same thing. Choose, for each, to keep yours or take theirs.",
        "zh": "升级有 {count} 处冲突：您和新版本修改了同一处。请逐一选择保留我的或采用新版本的。"},
    "upgrade_conflict": {
        "en": "{field}: yours is {mine}, the new version's is {theirs}.",
        "zh": "{field}：您的是 {mine}，新版本的是 {theirs}。"},
}

# Words used inside messages: JSON types and resource names.
# Whom to ask about a record one cannot see, when the tenant keeps owners private.
ADMINISTRATOR = "~administrator"
WORDS: dict[str, dict[str, str]] = {
    ADMINISTRATOR: {"en": "an administrator", "zh": "管理员"},
    "string": {"en": "text", "zh": "文本"},
    "integer": {"en": "a whole number", "zh": "整数"},
    "number": {"en": "a number", "zh": "数字"},
    "boolean": {"en": "true or false", "zh": "布尔值"},
    "object": {"en": "an object", "zh": "对象"},
    "array": {"en": "a list", "zh": "列表"},
    "null": {"en": "null", "zh": "空值"},
    "email": {"en": "e-mail address", "zh": "邮箱地址"},
    "date-time": {"en": "date and time", "zh": "日期时间"},
    "time zone": {"en": "IANA time zone (e.g. Asia/Shanghai)",
                  "zh": "IANA 时区（如 Asia/Shanghai）"},
    "tenant": {"en": "tenant", "zh": "租户"},
    "user": {"en": "user", "zh": "用户"},
    "department": {"en": "department", "zh": "部门"},
    "role": {"en": "role", "zh": "角色"},
    "token": {"en": "API token", "zh": "API 令牌"},
    "app": {"en": "app", "zh": "应用"},
    "form": {"en": "form", "zh": "表单"},
    "version": {"en": "version", "zh": "版本"},
    "record": {"en": "record", "zh": "记录"},
    "body": {"en": "the body", "zh": "请求体"},
    "sample record": {"en": "sample record", "zh": "示例记录"},
    "template": {"en": "template", "zh": "模板"},
    "task": {"en": "task", "zh": "任务"},
    "~deleted": {"en": "deleted", "zh": "已删除"},
}


def word(key: str, locale: str) -> str:
    """A catalogued word in `locale`, or the key itself."""
    entry = WORDS.get(key)
    return entry.get(locale, entry["en"]) if entry else key


def translate(code: str, locale: str, **params: Any) -> str:
    """Render the message for `code` in `locale` (falls back to English, then the code)."""
    entry = MESSAGES.get(code)
    if entry is None:
        return code
    template = entry.get(locale) or entry["en"]
    try:
        return template.format(**params)
    except (KeyError, IndexError, ValueError):
        return template


# Params whose values are vocabulary (types, resource names) and get translated too.
_WORD_PARAMS = ("expected", "resource", "format", "owner", "mine", "theirs")


def _message(code: str, locale: str, params: dict[str, Any], path: str | None = None) -> str:
    if isinstance(params.get("text"), str):
        return params["text"]  # already rendered by the engine that found the problem
    params = dict(params)
    for name in _WORD_PARAMS:
        if isinstance(params.get(name), str):
            params[name] = word(params[name], locale)
    if path is not None:
        params.setdefault("field", path or word("body", locale))
    return translate(code, locale, **params)


def render_error(error: LoomError, locale: str) -> dict[str, Any]:
    """The documented error body for `error`, its messages in `locale`."""
    params = dict(error.params)
    if error.fields:
        params.setdefault("count", len(error.fields))
    return {
        "code": error.code,
        "message": _message(error.code, locale, params),
        "fields": [{"path": f.path, "code": f.code,
                    "message": _message(f.code, locale, f.params, f.path)}
                   for f in error.fields],
    }


def pick_locale(*candidates: str | None, default: str = "en") -> str:
    """First candidate that is a supported locale (`zh-CN` counts as `zh`)."""
    for candidate in candidates:
        if not candidate:
            continue
        primary = candidate.replace("_", "-").split("-")[0].lower()
        if primary in LOCALES:
            return primary
    return default
