"""Messages of the form engine in English and Chinese, by problem code.

Placeholders: `{label}` is the field's label in the reader's locale (the engine fills it
in), other names come from the problem's params.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import lru_cache
from typing import Any

MESSAGES: dict[str, tuple[str, str]] = {
    # values
    "required": ("{label} is required.", "{label}为必填项。"),
    "wrong_type": ("{label} must be {expected}.", "{label}应为{expected}。"),
    "not_a_number": ("{label} must be a number, not {value!r}.", "{label}应为数字，而不是“{value}”。"),
    "not_an_integer": ("{label} must be a whole number.", "{label}应为整数。"),
    "too_many_decimals": ("{label} allows at most {limit} decimal place(s).",
                          "{label}最多允许 {limit} 位小数。"),
    "too_small": ("{label} must be at least {limit}.", "{label}不能小于 {limit}。"),
    "too_large": ("{label} must be at most {limit}.", "{label}不能大于 {limit}。"),
    "too_short": ("{label} needs at least {limit} character(s).", "{label}至少需要 {limit} 个字符。"),
    "too_long": ("{label} allows at most {limit} character(s).", "{label}最多 {limit} 个字符。"),
    "pattern_mismatch": ("{label} does not have the expected format.", "{label}的格式不正确。"),
    "not_a_boolean": ("{label} must be yes or no, not {value!r}.", "{label}应为“是”或“否”，而不是“{value}”。"),
    "bad_date": ("{label} must be a date such as 2024-01-05, not {value!r}.",
                 "{label}应为日期（如 2024-01-05），而不是“{value}”。"),
    "bad_datetime": ("{label} must be a date and time such as 2024-01-05T09:30:00+08:00.",
                     "{label}应为日期时间（如 2024-01-05T09:30:00+08:00）。"),
    "bad_time": ("{label} must be a time such as 09:30, not {value!r}.",
                 "{label}应为时间（如 09:30），而不是“{value}”。"),
    "not_an_option": ("{label}: {value!r} is not one of the options.", "{label}：“{value}”不是可选项。"),
    "too_few_items": ("{label} needs at least {limit} choice(s).", "{label}至少选择 {limit} 项。"),
    "too_many_items": ("{label} allows at most {limit} choice(s).", "{label}最多选择 {limit} 项。"),
    "duplicate_items": ("{label} lists {value!r} twice.", "{label}中“{value}”重复。"),
    "bad_email": ("{label} is not a valid e-mail address: {detail}", "{label}不是有效的邮箱地址：{detail}"),
    "bad_phone": ("{label} is not a valid phone number for {region_name}{example}.",
                  "{label}不是有效的{region_name}电话号码{example}。"),
    "phone_needs_country_code": (
        "{label} needs its country code ({country} for {region_name}) and no spaces.",
        "{label}需要带国家代码（{region_name}为 {country}）且不含空格。"),
    "bad_url": ("{label} must be a web address starting with http:// or https://.",
                "{label}应为以 http:// 或 https:// 开头的网址。"),
    "bad_reference": ("{label} must be the id of a {target}.", "{label}应为{target}的编号。"),
    "no_such_user": ("{label}: user {value} does not exist.", "{label}：用户 {value} 不存在。"),
    "no_such_department": ("{label}: department {value} does not exist.",
                           "{label}：部门 {value} 不存在。"),
    "no_such_record": ("{label}: there is no {target} record {value}.",
                       "{label}：{target} 中不存在记录 {value}。"),
    "too_few_rows": ("{label} needs at least {limit} line(s).", "{label}至少需要 {limit} 行。"),
    "too_many_rows": ("{label} allows at most {limit} line(s).", "{label}最多 {limit} 行。"),
    "bad_address": ("{label} must be an address with province, city, district and detail.",
                    "{label}应为包含省、市、区和详细地址的地址。"),
    "unknown_field": ("{key} is not a field of this form.", "{key}不是此表单的字段。"),
    "computed": ("{label} is calculated and cannot be set.", "{label}为自动计算字段，不能填写。"),
    "read_only": ("{label} is read-only.", "{label}为只读字段。"),
    "not_an_object": ("The record must be an object of field values.", "记录应为字段值组成的对象。"),
    "rule": ("{message}", "{message}"),
    "expression_failed": ("{label}: the expression could not be evaluated ({detail}).",
                          "{label}：表达式无法计算（{detail}）。"),
    "bad_value": ("{label} has a value that cannot be read: {value!r}.", "{label}的值无法识别：“{value}”。"),
    # definitions
    "unknown_type": ("Unknown field type {name!r}; known types: {known}.",
                     "未知的字段类型“{name}”；可用类型：{known}。"),
    "unknown_option": ("Field type {type} has no option {name!r}.", "字段类型 {type} 没有选项“{name}”。"),
    "duplicate_key": ("Field key {key!r} is used twice.", "字段标识“{key}”重复。"),
    "unknown_property": ("{name!r} is not part of a form definition here.", "“{name}”不是表单定义中允许的属性。"),
    "unknown_field_ref": ("{name!r} is not a field of this form.", "“{name}”不是此表单的字段。"),
    "unknown_form_ref": ("{name!r} is not a form of this app.", "“{name}”不是此应用中的表单。"),
    "formula_cycle": ("Calculated fields depend on each other in a cycle: {cycle}.",
                      "计算字段之间存在循环依赖：{cycle}。"),
    "min_above_max": ("The minimum {min} is above the maximum {max}.", "最小值 {min} 大于最大值 {max}。"),
    "duplicate_option": ("Option value {value!r} is listed twice.", "选项值“{value}”重复。"),
    "bad_pattern": ("The pattern is not a valid regular expression: {detail}.",
                    "正则表达式无效：{detail}。"),
    "pattern_too_complex": ("The pattern is too complex to check quickly ({size} steps; at most {limit}): counted repetition such as {{500}} multiplies it.",
                            "正则表达式过于复杂，无法快速校验（{size} 步，上限 {limit}）：如 {{500}} 之类的计数重复会使其成倍增长。"),
    "pattern_text_too_long": ("With this pattern the field may hold at most {limit} characters (so that each check stays fast); lower max_length or simplify the pattern.",
                              "使用此正则表达式时，该字段最多 {limit} 个字符（以保证校验足够快）；请降低最大长度或简化正则表达式。"),
    "bad_default": ("The default value does not fit the field: {detail}", "默认值与字段不符：{detail}"),
    "bad_autonumber_pattern": ("The pattern needs exactly one {{seq}} or {{seq:N}} placeholder.",
                               "编号规则中需要且只能有一个 {{seq}} 或 {{seq:N}} 占位符。"),
    "not_a_subtable_column": ("{name!r} is not a column of subtable {subtable!r}.",
                              "“{name}”不是子表“{subtable}”的列。"),
    "rollup_of_dates": ("A rollup of dates ({name!r}) can only be min (the earliest) or max "
                        "(the latest), not {function}.",
                        "日期（“{name}”）的汇总只能取最早（min）或最晚（max），不能用 {function}。"),
    "rollup_result_is_date": ("Column {name!r} holds values of type {type}: set the rollup's "
                              "result to {type!r}.",
                              "列“{name}”的值是 {type} 类型：请把汇总的结果类型设为“{type}”。"),
    "rollup_result_not_date": ("A {type} result is the min or max of a date column; {name!r} "
                               "is not one.",
                               "{type} 结果只能来自日期列的最早或最晚值；“{name}”不是日期列。"),
    "not_a_subtable": ("{name!r} is not a subtable of this form.", "“{name}”不是此表单的子表。"),
    "nested_subtable": ("A subtable cannot contain {type} fields.", "子表中不能包含 {type} 类型的字段。"),
    "unknown_layout_field": ("Layout places {name!r}, which is not a field.", "布局中的“{name}”不是字段。"),
    "layout_repeats": ("Layout places {name!r} twice.", "布局中“{name}”出现了两次。"),
    "bad_title": ("The title template uses {{{name}}}, which is not a field.",
                  "标题模板中的 {{{name}}} 不是字段。"),
    # definition shape (jsonschema)
    "missing": ("{name} is required here.", "此处必须提供 {name}。"),
    "schema": ("{detail}", "{detail}"),
    # expressions
    "empty_expression": ("The expression is empty.", "表达式为空。"),
    "expression_too_long": ("The expression is {length} characters long; the limit is {limit}.",
                            "表达式长度为 {length} 个字符，超过上限 {limit}。"),
    "expression_too_deep": ("The expression nests more than {limit} levels deep.",
                            "表达式嵌套超过 {limit} 层。"),
    "syntax_error": ("Syntax error at column {column}: {detail}.", "第 {column} 列语法错误：{detail}。"),
    "forbidden_syntax": ("{what} is not allowed in expressions (column {column}).",
                         "表达式中不允许使用 {what}（第 {column} 列）。"),
    "unknown_name": ("Unknown name {name!r} at column {column}.", "第 {column} 列的名称“{name}”未定义。"),
    "unknown_function": ("Unknown function {name!r} at column {column}.",
                         "第 {column} 列的函数“{name}”不存在。"),
    "wrong_argument_count": ("{name}() takes {signature}, not {count} argument(s) (column {column}).",
                             "{name}() 的用法是 {signature}，而不是 {count} 个参数（第 {column} 列）。"),
    "power_too_large": ("The power would have more than {limit} digits.", "乘方结果超过 {limit} 位。"),
    "number_too_large": ("A number in the expression grew too large.", "表达式中的数字过大。"),
    "result_too_long": ("The result would be longer than {limit}.", "结果长度将超过 {limit}。"),
    "type_mismatch": ("Cannot apply {operator} to {left} and {right}.", "无法对 {left} 和 {right} 使用 {operator}。"),
    "arithmetic_error": ("Arithmetic error: {detail}.", "算术错误：{detail}。"),
    "bad_argument": ("{function}(): {detail}.", "{function}()：{detail}。"),
    "invalid_expression": ("The expression is invalid: {detail}.", "表达式无效：{detail}。"),
    "missing_item": ("No item {detail}.", "不存在项 {detail}。"),
    "evaluation_failed": ("The expression failed: {detail}.", "表达式计算失败：{detail}。"),
    # versions
    "field_removed": ("Field {key!r} is removed; {count} record(s) hold a value.",
                      "字段“{key}”被删除；有 {count} 条记录含有该值。"),
    "field_retyped": ("Field {key!r} changes type from {old} to {new}.",
                      "字段“{key}”的类型从 {old} 改为 {new}。"),
    "newly_required": ("Field {key!r} becomes required; records without it need a default.",
                       "字段“{key}”改为必填；缺少该值的记录需要默认值。"),
    "newly_unique": ("Field {key!r} must become unique, but {count} record(s) share a value "
                     "with another: make them differ first, or keep the field not unique.",
                     "字段“{key}”要改为唯一，但有 {count} 条记录与其他记录取值相同：请先修改这些"
                     "记录，或保持该字段不唯一。"),
    "options_removed": ("Field {key!r} loses option(s) {values}.", "字段“{key}”删除了选项 {values}。"),
    "migration_needed": ("This change needs a migration (a default or a conversion).",
                         "此修改需要提供迁移方式（默认值或转换）。"),
    # the form builder's edits
    "no_form_to_look_up": ("A lookup needs another form in this app to look up; create it "
                           "first.", "关联字段需要本应用中的另一个表单，请先创建它。"),
    "no_subtable_to_roll_up": ("A rollup sums up a subtable of this form; add a subtable "
                               "first.", "汇总字段要汇总本表单的子表，请先添加子表。"),
    "no_such_field": ("This form has no field {value!r}.", "本表单没有字段“{value}”。"),
    "type_is_fixed": ("A field's type cannot change: add a field of the new type instead.",
                      "字段类型不能更改，请添加一个新类型的字段。"),
    "bad_key": ("{value!r} cannot be a key: use lower-case letters, digits and _, starting "
                "with a letter.", "“{value}”不能作为键：只能用小写字母、数字和下划线，并以字母开头。"),
    "key_taken": ("Another field already has the key {value!r}.", "已有字段使用键“{value}”。"),
    "key_is_published": ("The key {value!r} is published: records store their values under "
                         "it, so it can no longer change.",
                         "键“{value}”已发布，记录按它保存数据，不能再更改。"),
    "bad_columns": ("A section has 1 to {limit} columns.", "分组可以有 1 到 {limit} 列。"),
    "no_such_section": ("This form has no section {value}.", "本表单没有第 {value} 个分组。"),
    "last_section": ("A form keeps at least one section.", "表单至少保留一个分组。"),
    "not_a_form_option": ("{value!r} is not a setting of a form.", "“{value}”不是表单设置。"),

}

WORDS: dict[str, tuple[str, str]] = {
    "text": ("text", "文本"),
    "number": ("a number", "数字"),
    "list": ("a list", "列表"),
    "object": ("an object", "对象"),
    "boolean": ("true or false", "布尔值"),
    "user": ("user", "用户"),
    "department": ("department", "部门"),
    "record": ("record", "记录"),
}


def render(code: str, locale: str, params: Mapping[str, Any]) -> str:
    """The message for `code` in `locale` (zh or en), with params filled in."""
    entry = MESSAGES.get(code)
    if entry is None:
        return code
    template = entry[1] if locale == "zh" else entry[0]
    values = dict(params)
    for name in ("expected", "target"):
        if isinstance(values.get(name), str) and values[name] in WORDS:
            values[name] = WORDS[values[name]][1 if locale == "zh" else 0]
    if "label" in values and isinstance(values["label"], Mapping):
        values["label"] = label_text(values["label"], locale)
    values.setdefault("label", values.get("key", ""))
    if isinstance(values.get("region"), str):
        values["region_name"] = territory_name(values["region"], locale)
        example = example_phone(values["region"])
        values["example"] = (("，例如 " if locale == "zh" else ", e.g. ") + example
                             if example else "")
    if "reason" in values:  # a nested problem, rendered in the same language
        values["detail"] = render(values["reason"], locale, values.get("reason_params", {}))
    if code == "pattern_mismatch" and values.get("message"):
        return label_text(values["message"], locale)  # the designer's own wording
    if isinstance(values.get("message"), Mapping):
        values["message"] = label_text(values["message"], locale)
    try:
        return template.format(**values)
    except (KeyError, IndexError, ValueError):
        return template


@lru_cache(maxsize=512)
def territory_name(region: str, locale: str) -> str:
    """`CN` as the reader says it: "China", "中国" (CLDR, by Babel); the code when unknown."""
    from babel import Locale

    return Locale.parse("zh_Hans" if locale == "zh" else "en").territories.get(region, region)


@lru_cache(maxsize=512)
def example_phone(region: str) -> str:
    """A mobile number of the region as people write it there: `131 2345 6789`."""
    import phonenumbers

    number = phonenumbers.example_number_for_type(region, phonenumbers.PhoneNumberType.MOBILE)
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL) \
        if number is not None else ""


def label_text(label: Any, locale: str) -> str:
    """A `{en, zh}` label (or a plain string) in `locale`, falling back to any text."""
    if isinstance(label, Mapping):
        return str(label.get(locale) or label.get("en") or label.get("zh")
                   or next(iter(label.values()), ""))
    return "" if label is None else str(label)
