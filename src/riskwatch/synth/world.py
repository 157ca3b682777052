"""The synthetic city's fixed world: districts, industries, entity types, words, and risk.

Zhengzhou (郑州市 410100) with its twelve districts and counties, uneven in size and risk;
a few dozen GB/T 4754-2017 classes; the latent-risk scale and how it maps to the chance
that a spot check finds a problem.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from riskwatch.ingest.contract import DOMAINS, ENTITY_TYPES

Float = npt.NDArray[np.float64]


@dataclass(frozen=True)
class District:
    code: int
    name: str
    share: float  # share of the city's enterprises
    risk: float  # additive log-odds effect
    lon: float
    lat: float
    county: bool  # a county or county-level city: villages and towns in addresses


DISTRICTS: tuple[District, ...] = (
    District(410102, "中原区", 0.095, 0.05, 113.61, 34.75, False),
    District(410103, "二七区", 0.105, 0.10, 113.64, 34.72, False),
    District(410104, "管城回族区", 0.085, 0.15, 113.68, 34.74, False),
    District(410105, "金水区", 0.235, -0.05, 113.66, 34.80, False),
    District(410106, "上街区", 0.015, -0.25, 113.31, 34.80, False),
    District(410108, "惠济区", 0.050, 0.05, 113.62, 34.87, False),
    District(410122, "中牟县", 0.080, 0.35, 113.98, 34.72, True),
    District(410181, "巩义市", 0.055, -0.10, 113.02, 34.75, True),
    District(410182, "荥阳市", 0.060, 0.10, 113.38, 34.79, True),
    District(410183, "新密市", 0.050, 0.20, 113.39, 34.54, True),
    District(410184, "新郑市", 0.120, 0.25, 113.74, 34.40, True),
    District(410185, "登封市", 0.050, 0.00, 113.05, 34.45, True),
)
CITY_NAME = "郑州市"
PROVINCE_NAME = "河南省"


@dataclass(frozen=True)
class Industry:
    code: str  # GB/T 4754-2017 class with its section letter
    word: str  # the word an enterprise name carries
    weight: float
    risk: float
    domain: str  # contract DOMAINS value for penalties and inspectors
    license: str  # licence kind, or "" when none is usually needed
    complaints: float  # complaint intensity relative to the average


INDUSTRIES: tuple[Industry, ...] = (
    Industry("A0141", "蔬菜种植", 0.010, 0.10, "其他", "", 0.2),
    Industry("A0311", "养殖", 0.008, 0.15, "其他", "动物防疫条件合格证", 0.2),
    Industry("C1351", "肉类加工", 0.005, 0.30, "食品", "食品生产许可证", 1.0),
    Industry("C1431", "食品", 0.008, 0.30, "食品", "食品生产许可证", 1.2),
    Industry("C1512", "酒业", 0.004, 0.20, "食品", "食品生产许可证", 0.8),
    Industry("C1810", "服饰", 0.010, 0.00, "工业产品", "", 0.5),
    Industry("C2231", "纸制品", 0.004, 0.00, "工业产品", "工业产品生产许可证", 0.2),
    Industry("C2929", "塑料制品", 0.006, 0.10, "工业产品", "", 0.3),
    Industry("C3021", "建材", 0.006, 0.20, "工业产品", "工业产品生产许可证", 0.3),
    Industry("C3311", "钢结构", 0.006, 0.10, "特种设备", "特种设备生产许可证", 0.2),
    Industry("C3581", "医疗器械", 0.003, 0.20, "医疗器械", "医疗器械生产许可证", 0.6),
    Industry("C3670", "汽车配件", 0.005, -0.10, "工业产品", "", 0.3),
    Industry("E4710", "建筑工程", 0.025, 0.20, "其他", "建筑业企业资质证书", 0.4),
    Industry("E5012", "装饰工程", 0.025, 0.30, "其他", "", 1.2),
    Industry("F5121", "粮油", 0.020, 0.00, "食品", "食品经营许可证", 0.5),
    Industry("F5137", "电器", 0.015, 0.00, "工业产品", "", 0.6),
    Industry("F5191", "再生资源", 0.008, 0.40, "其他", "", 0.3),
    Industry("F5211", "百货", 0.060, -0.05, "工业产品", "", 1.0),
    Industry("F5212", "超市", 0.040, 0.00, "食品", "食品经营许可证", 1.8),
    Industry("F5223", "果蔬", 0.035, -0.05, "食品", "食品经营许可证", 0.8),
    Industry("F5232", "服装", 0.035, -0.05, "工业产品", "", 0.8),
    Industry("F5251", "大药房", 0.015, 0.10, "药品", "药品经营许可证", 1.0),
    Industry("F5261", "汽车销售", 0.008, 0.10, "其他", "", 2.0),
    Industry("F5274", "通讯器材", 0.020, 0.05, "工业产品", "", 1.5),
    Industry("F5292", "电子商务", 0.040, 0.35, "广告", "", 2.5),
    Industry("F5299", "商贸", 0.090, 0.15, "其他", "", 0.7),
    Industry("G5431", "物流", 0.025, 0.15, "其他", "道路运输经营许可证", 0.6),
    Industry("G6020", "快递", 0.006, 0.10, "其他", "快递业务经营许可证", 1.5),
    Industry("H6121", "酒店", 0.010, 0.00, "食品", "", 1.2),
    Industry("H6210", "餐饮", 0.060, 0.10, "食品", "食品经营许可证", 1.6),
    Industry("H6220", "快餐", 0.030, 0.10, "食品", "食品经营许可证", 1.5),
    Industry("H6291", "小吃", 0.045, 0.15, "食品", "食品经营许可证", 1.3),
    Industry("I6513", "软件科技", 0.030, -0.20, "其他", "", 0.3),
    Industry("I6531", "信息技术", 0.020, -0.10, "其他", "", 0.3),
    Industry("K7010", "置业", 0.008, 0.30, "其他", "房地产开发企业资质证书", 2.0),
    Industry("K7020", "物业服务", 0.012, 0.05, "价格", "", 2.2),
    Industry("K7030", "房产经纪", 0.012, 0.25, "价格", "", 1.8),
    Industry("L7212", "投资管理", 0.020, 0.55, "其他", "", 1.0),
    Industry("L7251", "网络广告", 0.012, 0.25, "广告", "", 0.8),
    Industry("L7263", "劳务派遣", 0.010, 0.30, "其他", "劳务派遣经营许可证", 0.9),
    Industry("M7483", "工程设计", 0.010, -0.20, "其他", "", 0.2),
    Industry("M7519", "科技推广", 0.030, 0.05, "其他", "", 0.3),
    Industry("O8010", "家政服务", 0.012, 0.10, "价格", "", 1.4),
    Industry("O8051", "美容美发", 0.035, 0.15, "价格", "", 1.8),
    Industry("O8111", "汽车维修", 0.020, 0.10, "计量", "", 1.2),
    Industry("P8393", "文化培训", 0.015, 0.30, "价格", "", 2.2),
    Industry("Q8425", "诊所", 0.006, 0.00, "医疗器械", "医疗机构执业许可证", 0.8),
    Industry("R9013", "网吧", 0.006, 0.20, "其他", "网络文化经营许可证", 0.5),
    Industry("L7259", "广告传媒", 0.015, 0.15, "广告", "", 0.6),
    Industry("E4910", "电气安装", 0.010, 0.05, "特种设备", "", 0.3),
)
INDUSTRY_WEIGHTS = np.array([i.weight for i in INDUSTRIES]) / sum(i.weight for i in INDUSTRIES)
INDUSTRY_DOMAIN = np.array([DOMAINS.index(i.domain) for i in INDUSTRIES])

# Entity types: share, risk effect, USCC type character, typical capital (万元, log10 mean).
ENTITY_SHARE = {
    "有限责任公司": 0.42,
    "股份有限公司": 0.015,
    "个人独资企业": 0.03,
    "合伙企业": 0.02,
    "外商投资企业": 0.01,
    "农民专业合作社": 0.025,
    "个体工商户": 0.44,
    "分公司": 0.04,
}
ENTITY_RISK = {
    "有限责任公司": 0.10,
    "股份有限公司": -0.40,
    "个人独资企业": 0.25,
    "合伙企业": 0.35,
    "外商投资企业": -0.35,
    "农民专业合作社": 0.30,
    "个体工商户": -0.15,
    "分公司": 0.00,
}
ENTITY_LOG_CAPITAL = {
    "有限责任公司": 2.0,
    "股份有限公司": 3.5,
    "个人独资企业": 1.3,
    "合伙企业": 2.3,
    "外商投资企业": 3.0,
    "农民专业合作社": 1.7,
    "个体工商户": 0.9,
    "分公司": 0.0,
}
TYPE_SHARE = np.array([ENTITY_SHARE[t] for t in ENTITY_TYPES])
TYPE_RISK = np.array([ENTITY_RISK[t] for t in ENTITY_TYPES])
TYPE_LOG_CAPITAL = np.array([ENTITY_LOG_CAPITAL[t] for t in ENTITY_TYPES])
TYPE_USCC_CHAR = np.array(
    [2 if t == "个体工商户" else 3 if t == "农民专业合作社" else 1 for t in ENTITY_TYPES]
)
T_LLC = ENTITY_TYPES.index("有限责任公司")
T_INDIVIDUAL = ENTITY_TYPES.index("个体工商户")
T_COOP = ENTITY_TYPES.index("农民专业合作社")
T_BRANCH = ENTITY_TYPES.index("分公司")
T_FOREIGN = ENTITY_TYPES.index("外商投资企业")
T_JOINT_STOCK = ENTITY_TYPES.index("股份有限公司")
T_PARTNERSHIP = ENTITY_TYPES.index("合伙企业")
T_SOLE = ENTITY_TYPES.index("个人独资企业")

# Brand characters: three of them, decoded from a permuted index, make every name unique.
BRAND_CHARS = (
    "鑫华泰盛鼎达兴隆昌恒润丰源豪瑞祥和嘉信诚德康宏远通博海天中正宇宁安永福聚金银"
    "银辉煌明亮光新旺佳乐美顺发荣益众合利汇腾飞凯越卓腾俊雅逸晨阳升晟锦绣秀峰岳"
    "川江河湖林森松柏竹梅兰菊星月云霞雨露晶琪瑶璐琳珂坤乾元亨贞吉庆喜瑞麒麟凤鹏"
    "龙虎豹鹰鸿雁雀燕蓝青紫朱赤橙黄绿白玉翠珠宝石钻铭书文武智仁义礼忠孝勤俭朴素"
    "诺迪特普维斯克莱汉唐宋明清秦晋豫楚蜀吴越齐鲁燕赵"
    "辰宸浩瀚鸣骏驰骐骥翔翰墨韬略峻嵩洛伊汝颍淮沁溪泉涌澜沛泽渊"
)
# Deduplicate while keeping order so the brand radix is exact.
BRAND_CHARS = "".join(dict.fromkeys(BRAND_CHARS))
BRAND_SPACE = len(BRAND_CHARS) ** 3

SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡"
    "余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯"
    "龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
)
GIVEN_CHARS = (
    "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚桂英华玉萍红娥玲芬芳燕彩春菊兰凤"
    "洁梅琳素云莲真环雪荣爱妹霞香月莺媛艳瑞凡佳嘉琼勤珍贞莉桂娣叶璧璐娅琦晶妍茜秋珊莎"
    "锦黛青倩婷姣婉娴瑾颖露瑶怡婵雁蓓纨仪荷丹蓉眉君琴蕊薇菁梦岚苑婕馨瑗琰韵融园艺咏卿"
    "聪澜纯毓悦昭冰爽琬茗羽希宁欣飘育滢馥筠柔竹霭凝晓欢霄枫芸菲寒伊亚宜可姬舒影荔枝思"
    "丽"
)
FOREIGN_NAMES = (
    "JOHN SMITH",
    "KIM MIN-JUN",
    "TANAKA HIROSHI",
    "MARIA GARCIA",
    "DAVID LEE",
    "PETER MULLER",
    "ANNA IVANOVA",
    "NGUYEN VAN AN",
)
ORG_SUFFIX = {
    "有限责任公司": "有限公司",
    "股份有限公司": "股份有限公司",
    "个人独资企业": "经营部",
    "合伙企业": "企业（有限合伙）",
    "外商投资企业": "有限公司",
    "农民专业合作社": "专业合作社",
    "个体工商户": "店",
    "分公司": "有限公司（郑州分公司）",
}
ROADS = (
    "花园路",
    "农业路",
    "文化路",
    "经三路",
    "纬五路",
    "金水路",
    "中州大道",
    "建设路",
    "嵩山路",
    "大学路",
    "航海路",
    "陇海路",
    "商都路",
    "郑汴路",
    "东风路",
    "丰产路",
    "黄河路",
    "南阳路",
    "桐柏路",
    "伏牛路",
    "科学大道",
    "长椿路",
    "紫荆山路",
    "未来路",
    "商务内环路",
    "CBD外环路",
    "京广路",
    "淮河路",
    "嵩山南路",
    "人民路",
    "二七路",
    "解放路",
    "棉纺路",
    "秦岭路",
)
BUILDINGS = (
    "绿地中心",
    "升龙广场",
    "正弘大厦",
    "建业大厦",
    "国贸中心",
    "曼哈顿广场",
    "金成时代广场",
    "居易国际",
    "永和国际",
    "世贸大厦",
    "中原广场",
    "东方鼎盛",
    "丰乐大厦",
    "创业大厦",
    "百花大厦",
)
TOWNS = ("城关镇", "官渡镇", "刘集镇", "大孟镇", "韩寺镇", "白沙镇", "新店镇", "龙湖镇", "孟庄镇")
VILLAGES = ("东村", "西村", "南庄", "北街村", "王庄村", "李庄村", "张寨村", "刘湾村", "新村")

# Latent risk z (about N(0, 1) at as-of) → log-odds that a spot check finds a problem.
# The kink near the median makes the lower half nearly clean, as the Henan 2021 ladder shows.
Z_KNOTS = np.array([-5.0, -2.5, 0.0, 0.12, 1.29, 1.81, 2.5, 5.0])
LOGIT_KNOTS = np.array([-6.0, -4.4, -2.4, -0.75, 0.1, 1.0, 2.6, 5.0])
Z_MEAN = 0.174  # population constants that standardise the linear predictor
Z_SD = 0.85


def problem_logit(z: Float) -> Float:
    """Log-odds that a spot check at latent risk ``z`` finds a problem."""
    out: Float = np.interp(z, Z_KNOTS, LOGIT_KNOTS)
    return out


def sigmoid(x: Float) -> Float:
    """The logistic function."""
    return 1.0 / (1.0 + np.exp(-x))
