"""The input data contract (v1) as data: tables, columns, Chinese labels, kinds, keys.

This module is the single source of truth for what a bureau hands the platform
(``shared/spec/data-contract.md``). The synthetic city writes it, ingest reads and
validates it, and the warehouse schema is derived from it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

CONTRACT_VERSION = "1"


class Kind(StrEnum):
    """How a column is parsed, validated and stored."""

    USCC = "uscc"  # 统一社会信用代码, GB 32100-2015 → VARCHAR(18)
    PERSON_ID = "person_id"  # resident ID or passport → HMAC pseudonym
    PARTY_ID = "party_id"  # person ID or USCC, decided by another column (holder_type)
    REGION = "region"  # GB/T 2260, 6 digits
    INDUSTRY = "industry"  # GB/T 4754-2017, section letter + up to 4 digits
    DATE = "date"
    YEAR = "year"
    AMOUNT = "amount"  # a plain number; 万元 where the label says so
    INTEGER = "integer"
    RATIO = "ratio"  # a share: 0–1, or 0–100 with/without %
    BOOL = "bool"
    ENUM = "enum"
    ENUM_LIST = "enum_list"  # several enum values separated by ; 、 ，
    CODE = "code"  # an identifier without a checksum (decision_no, task_id …)
    CODE_LIST = "code_list"
    TEXT = "text"
    LON = "lon"
    LAT = "lat"


DUCKDB_TYPES: dict[Kind, str] = {
    Kind.USCC: "VARCHAR",
    Kind.PERSON_ID: "VARCHAR",
    Kind.PARTY_ID: "VARCHAR",
    Kind.REGION: "VARCHAR",
    Kind.INDUSTRY: "VARCHAR",
    Kind.DATE: "DATE",
    Kind.YEAR: "INTEGER",
    Kind.AMOUNT: "DOUBLE",
    Kind.INTEGER: "BIGINT",
    Kind.RATIO: "DOUBLE",
    Kind.BOOL: "BOOLEAN",
    Kind.ENUM: "VARCHAR",
    Kind.ENUM_LIST: "VARCHAR[]",
    Kind.CODE: "VARCHAR",
    Kind.CODE_LIST: "VARCHAR[]",
    Kind.TEXT: "VARCHAR",
    Kind.LON: "DOUBLE",
    Kind.LAT: "DOUBLE",
}


@dataclass(frozen=True)
class Column:
    """One contract column."""

    name: str
    label: str
    kind: Kind
    required: bool = True
    values: tuple[str, ...] = ()
    aliases: tuple[str, ...] = ()

    @property
    def duckdb_type(self) -> str:
        return DUCKDB_TYPES[self.kind]

    @property
    def headers(self) -> tuple[str, ...]:
        """Every header spelling accepted for this column."""
        return (self.name, self.label, *self.aliases)


@dataclass(frozen=True)
class Table:
    """One contract table."""

    name: str
    label: str
    columns: tuple[Column, ...]
    key: tuple[str, ...]
    known_on: str | None = None
    """The column whose date makes a record known (point-in-time), if any."""
    derived: tuple[tuple[str, str], ...] = field(default=())
    """Extra warehouse columns computed at load: (name, DuckDB type)."""

    def column(self, name: str) -> Column:
        for c in self.columns:
            if c.name == name:
                return c
        raise KeyError(name)

    @property
    def required(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns if c.required)


ENTITY_TYPES = (
    "有限责任公司",
    "股份有限公司",
    "个人独资企业",
    "合伙企业",
    "外商投资企业",
    "农民专业合作社",
    "个体工商户",
    "分公司",
)
STATUSES = ("存续", "在业", "吊销", "注销", "迁出")
CHANGE_ITEMS = ("名称", "住所", "法定代表人", "经营范围", "注册资本", "股东", "企业类型")
ABNORMAL_REASONS = (
    "未按规定报送年度报告",
    "通过登记的住所或者经营场所无法联系",
    "公示信息隐瞒真实情况弄虚作假",
    "未按规定公示即时信息",
)
PENALTY_KINDS = (
    "警告",
    "通报批评",
    "罚款",
    "没收违法所得",
    "没收非法财物",
    "暂扣许可证",
    "降低资质等级",
    "吊销许可证",
    "限制开展生产经营活动",
    "责令停产停业",
    "责令关闭",
    "限制从业",
    "行政拘留",
)
DOMAINS = (
    "食品",
    "药品",
    "医疗器械",
    "特种设备",
    "工业产品",
    "广告",
    "价格",
    "知识产权",
    "计量",
    "其他",
)
LICENSE_STATUSES = ("有效", "注销", "吊销", "撤销")
INSPECTION_KINDS = ("双随机", "专项", "日常", "投诉核查")
INSPECTION_RESULTS = (
    "未发现问题",
    "未发现开展本次抽查涉及的经营活动",
    "发现问题已责令改正",
    "发现问题待后续处理",
    "未按规定公示应当公示的信息",
    "公示信息隐瞒真实情况弄虚作假",
    "通过登记的住所（经营场所）无法联系",
    "不配合检查情节严重",
    "已关闭停业或正在组织清算",
    "企业已注销",
)
COMPLAINT_CHANNELS = ("12315", "12345", "来信", "来访", "网络")
COMPLAINT_KINDS = ("投诉", "举报", "咨询")
COMPLAINT_CATEGORIES = (
    "产品质量",
    "食品安全",
    "价格",
    "合同",
    "广告",
    "虚假宣传",
    "售后服务",
    "其他",
)
JUDICIAL_ROLES = ("原告", "被告", "第三人", "被执行人", "失信被执行人")
SENTIMENTS = ("正面", "中性", "负面")
HOLDER_TYPES = ("自然人", "企业")
OFFICER_ROLES = ("法定代表人", "执行董事", "董事", "监事", "经理", "财务负责人")

_USCC = Column("uscc", "统一社会信用代码", Kind.USCC)

TABLES: dict[str, Table] = {
    t.name: t
    for t in (
        Table(
            "enterprises",
            "企业基本信息",
            (
                _USCC,
                Column("name", "企业名称", Kind.TEXT),
                Column("entity_type", "企业类型", Kind.ENUM, values=ENTITY_TYPES),
                Column("status", "登记状态", Kind.ENUM, values=STATUSES),
                Column("established_on", "成立日期", Kind.DATE),
                Column("registered_capital", "注册资本(万元)", Kind.AMOUNT, aliases=("注册资本",)),
                Column("industry_code", "行业代码", Kind.INDUSTRY),
                Column("region_code", "住所行政区划代码", Kind.REGION),
                Column("address", "住所", Kind.TEXT),
                Column("legal_rep_id", "法定代表人证件号码", Kind.PERSON_ID),
                Column("legal_rep_name", "法定代表人", Kind.TEXT),
                Column("authority", "登记机关", Kind.TEXT, required=False),
                Column("business_scope", "经营范围", Kind.TEXT, required=False),
                Column("deregistered_on", "注销日期", Kind.DATE, required=False),
                Column("lon", "经度", Kind.LON, required=False),
                Column("lat", "纬度", Kind.LAT, required=False),
            ),
            key=("uscc",),
            known_on="established_on",
            derived=(("name_norm", "VARCHAR"),),
        ),
        Table(
            "investments",
            "股东及出资信息",
            (
                _USCC,
                Column("holder_type", "股东类型", Kind.ENUM, values=HOLDER_TYPES),
                Column(
                    "holder_id",
                    "股东证件号码/统一社会信用代码",
                    Kind.PARTY_ID,
                    aliases=("股东证件号码", "证照/证件号码"),
                ),
                Column("holder_name", "股东名称", Kind.TEXT),
                Column(
                    "subscribed_capital", "认缴出资额(万元)", Kind.AMOUNT, aliases=("认缴出资额",)
                ),
                Column("share_ratio", "持股比例", Kind.RATIO, required=False),
                Column("since", "出资日期", Kind.DATE, required=False),
            ),
            key=("uscc", "holder_id"),
            known_on="since",
        ),
        Table(
            "officers",
            "主要人员",
            (
                _USCC,
                Column("person_id", "证件号码", Kind.PERSON_ID),
                Column("name", "姓名", Kind.TEXT),
                Column("role", "职务", Kind.ENUM, values=OFFICER_ROLES),
            ),
            key=("uscc", "person_id", "role"),
        ),
        Table(
            "changes",
            "变更记录",
            (
                _USCC,
                Column("changed_on", "变更日期", Kind.DATE),
                Column("item", "变更事项", Kind.ENUM, values=CHANGE_ITEMS),
                Column("before", "变更前", Kind.TEXT, required=False, aliases=("变更前内容",)),
                Column("after", "变更后", Kind.TEXT, required=False, aliases=("变更后内容",)),
            ),
            key=("uscc", "changed_on", "item"),
            known_on="changed_on",
        ),
        Table(
            "annual_reports",
            "年度报告",
            (
                _USCC,
                Column("year", "年度", Kind.YEAR, aliases=("报告年度",)),
                Column("submitted_on", "报送日期", Kind.DATE, required=False),
                Column("employees", "从业人数", Kind.INTEGER, required=False),
                Column("revenue", "营业总收入(万元)", Kind.AMOUNT, required=False),
                Column("total_assets", "资产总额(万元)", Kind.AMOUNT, required=False),
                Column("tax_paid", "纳税总额(万元)", Kind.AMOUNT, required=False),
                Column("corrected", "是否更正", Kind.BOOL, required=False),
            ),
            key=("uscc", "year"),
            known_on="submitted_on",
        ),
        Table(
            "abnormal_listings",
            "经营异常名录",
            (
                _USCC,
                Column("listed_on", "列入日期", Kind.DATE),
                Column("reason", "列入原因", Kind.ENUM, values=ABNORMAL_REASONS),
                Column("authority", "作出决定机关", Kind.TEXT, required=False),
                Column("removed_on", "移出日期", Kind.DATE, required=False),
                Column("removal_reason", "移出原因", Kind.TEXT, required=False),
            ),
            key=("uscc", "listed_on"),
            known_on="listed_on",
        ),
        Table(
            "serious_violations",
            "严重违法失信名单",
            (
                _USCC,
                Column("listed_on", "列入日期", Kind.DATE),
                Column("reason", "列入原因", Kind.TEXT),
                Column("removed_on", "移出日期", Kind.DATE, required=False),
            ),
            key=("uscc", "listed_on"),
            known_on="listed_on",
        ),
        Table(
            "penalties",
            "行政处罚",
            (
                Column("decision_no", "决定书文号", Kind.CODE, aliases=("行政处罚决定书文号",)),
                _USCC,
                Column("decided_on", "处罚决定日期", Kind.DATE),
                Column("authority", "处罚机关", Kind.TEXT),
                Column("violation", "违法行为类型", Kind.TEXT),
                Column("penalty_kinds", "处罚种类", Kind.ENUM_LIST, values=PENALTY_KINDS),
                Column("fine", "罚没金额(万元)", Kind.AMOUNT, required=False),
                Column("domain", "监管领域", Kind.ENUM, required=False, values=DOMAINS),
                Column("publicity_until", "公示截止日期", Kind.DATE, required=False),
                Column("repaired_on", "信用修复日期", Kind.DATE, required=False),
            ),
            key=("decision_no",),
            known_on="decided_on",
        ),
        Table(
            "licenses",
            "行政许可",
            (
                Column("license_no", "许可证编号", Kind.CODE),
                _USCC,
                Column("kind", "许可类别", Kind.TEXT),
                Column("issued_on", "发证日期", Kind.DATE),
                Column("valid_until", "有效期至", Kind.DATE, required=False),
                Column("status", "状态", Kind.ENUM, values=LICENSE_STATUSES),
            ),
            key=("license_no",),
            known_on="issued_on",
        ),
        Table(
            "inspections",
            "抽查检查结果",
            (
                _USCC,
                Column("task_id", "抽查任务编号", Kind.CODE),
                Column("inspected_on", "检查日期", Kind.DATE),
                Column("kind", "检查类型", Kind.ENUM, values=INSPECTION_KINDS),
                Column("result", "检查结果", Kind.ENUM, values=INSPECTION_RESULTS),
                Column("inspector_ids", "检查人员", Kind.CODE_LIST, required=False),
                Column("items", "检查事项", Kind.TEXT, required=False),
                # Extension of contract v1: set when the platform drew the enterprise at random
                # (双随机), so models and estimates can weight by its inverse.
                Column("inclusion_probability", "入样概率", Kind.RATIO, required=False),
            ),
            key=("uscc", "task_id"),
            known_on="inspected_on",
        ),
        Table(
            "complaints",
            "投诉举报",
            (
                Column("complaint_id", "编号", Kind.CODE, aliases=("投诉举报编号",)),
                Column("uscc", "统一社会信用代码", Kind.USCC, required=False),
                Column("enterprise_name", "被投诉方名称", Kind.TEXT, required=False),
                Column("received_on", "登记日期", Kind.DATE),
                Column("channel", "渠道", Kind.ENUM, values=COMPLAINT_CHANNELS),
                Column("kind", "类型", Kind.ENUM, values=COMPLAINT_KINDS),
                Column("category", "问题类别", Kind.ENUM, values=COMPLAINT_CATEGORIES),
                Column("substantiated", "是否属实", Kind.BOOL, required=False),
                Column("closed_on", "办结日期", Kind.DATE, required=False),
            ),
            key=("complaint_id",),
            known_on="received_on",
            derived=(("uscc_source", "VARCHAR"), ("enterprise_name_norm", "VARCHAR")),
        ),
        Table(
            "judicial",
            "司法涉诉",
            (
                Column("case_no", "案号", Kind.CODE),
                _USCC,
                Column("filed_on", "立案日期", Kind.DATE),
                Column("role", "诉讼地位", Kind.ENUM, values=JUDICIAL_ROLES),
                Column("case_type", "案由", Kind.TEXT),
                Column("amount", "标的金额(万元)", Kind.AMOUNT, required=False),
                Column("closed_on", "结案日期", Kind.DATE, required=False),
            ),
            key=("case_no", "uscc", "role"),
            known_on="filed_on",
        ),
        Table(
            "opinions",
            "舆情",
            (
                Column("opinion_id", "编号", Kind.CODE, aliases=("舆情编号",)),
                Column("uscc", "统一社会信用代码", Kind.USCC, required=False),
                Column("enterprise_name", "企业名称", Kind.TEXT, required=False),
                Column("published_on", "发布日期", Kind.DATE),
                Column("source", "来源", Kind.TEXT),
                Column("title", "标题", Kind.TEXT),
                Column("content", "内容", Kind.TEXT, required=False),
                Column("sentiment", "情感倾向", Kind.ENUM, required=False, values=SENTIMENTS),
            ),
            key=("opinion_id",),
            known_on="published_on",
            derived=(
                ("uscc_source", "VARCHAR"),
                ("enterprise_name_norm", "VARCHAR"),
                ("sentiment_source", "VARCHAR"),
            ),
        ),
        Table(
            "inspectors",
            "执法检查人员名录库",
            (
                Column("inspector_id", "执法证号", Kind.CODE),
                Column("name", "姓名", Kind.TEXT),
                Column("department", "所属部门", Kind.TEXT),
                Column("region_code", "所属区划", Kind.REGION),
                Column("domains", "执法领域", Kind.ENUM_LIST, required=False, values=DOMAINS),
                Column("active", "是否在岗", Kind.BOOL),
            ),
            key=("inspector_id",),
        ),
    )
}
"""The contract tables by name, in load order (enterprises first)."""

LINEAGE_COLUMNS: tuple[tuple[str, str], ...] = (
    ("_load_id", "VARCHAR"),
    ("_source_file", "VARCHAR"),
    ("_source_line", "BIGINT"),
    ("_row_hash", "UBIGINT"),
    ("_flags", "VARCHAR[]"),
    ("_extra", "VARCHAR"),
)
"""Columns every warehouse row carries: where it came from and what was noted at load."""


def warehouse_columns(table: Table) -> list[tuple[str, str]]:
    """(name, DuckDB type) of the warehouse table for a contract table, in order."""
    cols = [(c.name, c.duckdb_type) for c in table.columns]
    cols.extend(table.derived)
    cols.extend(LINEAGE_COLUMNS)
    return cols
