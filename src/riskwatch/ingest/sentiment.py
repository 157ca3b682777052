"""Sentiment of a public-opinion record (舆情) where the source gave none.

A transparent lexicon rule, not a model: negative cue words (投诉, 曝光, 处罚 …) against
positive ones (荣获, 表彰 …), title weighted double. A clerk can read why a record was
called negative, and the word lists live here, in one place, to be tuned.
"""

from __future__ import annotations

import re

NEGATIVE = (
    "投诉",
    "举报",
    "曝光",
    "违规",
    "违法",
    "处罚",
    "罚款",
    "质量问题",
    "不合格",
    "欺诈",
    "虚假",
    "维权",
    "跑路",
    "欠薪",
    "拖欠",
    "事故",
    "召回",
    "假冒",
    "伪劣",
    "失信",
    "被执行",
    "立案",
    "查处",
    "停业",
    "关停",
    "爆雷",
    "纠纷",
    "退款难",
    "消费陷阱",
    "夸大宣传",
    "食物中毒",
    "污染",
    "隐患",
    "警示",
    "约谈",
    "通报",
    "涉嫌",
)
POSITIVE = (
    "荣获",
    "表彰",
    "获奖",
    "先进",
    "示范",
    "优秀",
    "诚信",
    "好评",
    "守信",
    "点赞",
    "创新",
    "突破",
    "捐赠",
    "公益",
    "放心",
    "满意",
    "标杆",
    "认证",
    "荣誉",
)
# A negation just before a negative cue ("未发现违规") cancels it.
NEGATIONS = ("未发现", "无", "没有", "不存在", "澄清", "辟谣")


_NEGATIVE = re.compile("|".join(map(re.escape, sorted(NEGATIVE, key=len, reverse=True))))
_POSITIVE = re.compile("|".join(map(re.escape, sorted(POSITIVE, key=len, reverse=True))))


def _hits(text: str, pattern: re.Pattern[str], check_negation: bool) -> int:
    count = 0
    for match in pattern.finditer(text):
        window = text[max(0, match.start() - 4) : match.start()]
        if not (check_negation and any(n in window for n in NEGATIONS)):
            count += 1
    return count


def classify_sentiment(title: str, content: str | None = None) -> str:
    """Return 正面, 中性 or 负面 for a public-opinion record.

    Parameters
    ----------
    title
        The headline (weighted double).
    content
        The body text, if any.
    """
    score = 0
    for text, weight in ((title or "", 2), (content or "", 1)):
        score += weight * (_hits(text, _POSITIVE, False) - _hits(text, _NEGATIVE, True))
    if score < 0:
        return "负面"
    if score > 0:
        return "正面"
    return "中性"
