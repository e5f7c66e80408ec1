"""Key tables: each mapping's English keys and their Chinese aliases.

A table maps the canonical English key to its one Chinese alias. The Chinese
alias doubles as the field's name in messages. The tables for the document
fields are fixed by the contract (docs: yaml-format.md); the contract names no
aliases for block keys, so these were chosen here:

    h1 一级标题   h2 二级标题   h3 三级标题   h4 四级标题
    text 正文 (run-in text after a heading)
    table 表格    header 表头   rows 行       csv CSV文件
    image 图片    width_mm 宽度毫米
    page_break 分页
"""

from __future__ import annotations

TOP = {
    "style": "格式",
    "header": "版头",
    "title": "标题",
    "recipients": "主送机关",
    "body": "正文",
    "attachments": "附件",
    "signature": "落款",
    "note": "附注",
    "colophon": "版记",
    "vars": "变量",
    "meta": "属性",
}

HEADER = {
    "copy_no": "份号",
    "secrecy": "密级",
    "urgency": "紧急程度",
    "issuer_mark": "发文机关标志",
    "doc_number": "发文字号",
    "signers": "签发人",
    "minutes_no": "纪要编号",
}

SIGNATURE = {
    "issuer": "发文机关署名",
    "date": "成文日期",
    "seal": "印章",
    "signer": "签发人职务姓名",
}

COLOPHON = {
    "cc": "抄送",
    "printer": "印发机关",
    "print_date": "印发日期",
}

META = {
    "author": "作者",
    "subject": "主题",
    "keywords": "关键词",
}

ATTACHMENT = {
    "title": "标题",
    "body": "正文",
}

HEADINGS = ("h1", "h2", "h3", "h4")

BLOCK = {
    "h1": "一级标题",
    "h2": "二级标题",
    "h3": "三级标题",
    "h4": "四级标题",
    "text": "正文",
    "table": "表格",
    "image": "图片",
    "width_mm": "宽度毫米",
    "page_break": "分页",
}

# The keys that say what a block is, and the other keys each kind may carry.
BLOCK_KINDS = {
    **{level: ("text",) for level in HEADINGS},
    "table": (),
    "image": ("width_mm",),
    "page_break": (),
}

TABLE = {
    "header": "表头",
    "rows": "行",
    "csv": "CSV文件",
}
