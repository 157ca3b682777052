"""Small frozen types and enums shared by every layer."""

from __future__ import annotations

from enum import StrEnum


class RiskClass(StrEnum):
    """Credit-risk classes (国市监信发〔2022〕6号): A low … D high."""

    A = "A"
    B = "B"
    C = "C"
    D = "D"

    @property
    def label_zh(self) -> str:
        return {"A": "信用风险低", "B": "信用风险一般", "C": "信用风险较高", "D": "信用风险高"}[
            self.value
        ]

    @property
    def label_en(self) -> str:
        return {"A": "low", "B": "moderate", "C": "elevated", "D": "high"}[self.value]


PROBLEM_RESULTS: tuple[str, ...] = (
    "发现问题已责令改正",
    "发现问题待后续处理",
    "未按规定公示应当公示的信息",
    "公示信息隐瞒真实情况弄虚作假",
    "通过登记的住所（经营场所）无法联系",
    "不配合检查情节严重",
)
"""Inspection result codes that count as "problem found" (data contract, inspections.result)."""


def is_problem_result(result: str) -> bool:
    """Whether an inspection result code means a problem was found."""
    return result in PROBLEM_RESULTS
