"""Identifiers a pseudonymous record must not hold: names, dates of birth, e-mail addresses, phone numbers, national
ID and record numbers. Pure functions: a text in, a list of findings out, each with a stable code and the words
naming what was found (never the identifier itself, which would end up in logs).

`find_identifiers` is for free text (a referral note, a justification): it looks for shapes that are identifiers in
any sentence, and for names only where something marks them as one ("Mr …", "Smith, J.", "姓名：…"), since a note is
full of capitalised words. `check_reference` is stricter, for the patient reference alone: any two words or any
Chinese characters are taken for a name, and the reference must have the site's study-code shape.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .wording import TEMPLATES, Message, Text, render, say

# Letters, digits and hyphens, 3–20 characters, starting and ending with a letter or digit, with at least one digit
# (a study code such as "JD-2014"; a bare word could be a surname). Written so that JSON Schema (ECMA-262) reads it
# the same way: the API's document publishes it.
DEFAULT_REFERENCE_PATTERN = r"^(?=[A-Za-z0-9-]*[0-9])[A-Za-z0-9][A-Za-z0-9-]{1,18}[A-Za-z0-9]$"
DEFAULT_REFERENCE_HINT = TEMPLATES["reference_hint"]  # worded in the reader's language when it is the default


@dataclass(frozen=True)
class Finding:
    code: str  # stable: "email", "national_id", "phone", "date_of_birth", "date", "record_number", "name", "shape"
    what: Text  # "a_phone_number" (a message, eligibility.wording); for "shape", the shape wanted

    def reference_message(self) -> str:
        """In the active language."""
        if self.code == "shape":
            return render(say("reference_shape", what=self.what))
        return render(say("reference_identifier", what=self.what))

    def free_text_message(self) -> str:
        """In the active language."""
        return render(say("free_text_identifier", what=self.what))


MONTH = r"(?:jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*\.?"
HAN = "\u3400-\u4dbf\u4e00-\u9fff"
# The commonest Chinese surnames (over 85 % of people), single and double.
SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆"
    "汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤常温康施文牛樊葛邢安齐易乔伍庞"
    "颜倪庄聂章鲁岳翟殷詹申欧耿关兰焦俞左柳甘祝包宁尚符舒阮柯纪梅童凌毕单季裴霍涂成苗谷盛曲翁冉骆蓝路游辛靳管柴蒙鲍华喻"
    "祁蒲房滕屈饶解牟艾尤阳时穆农司卓古吉缪简车项连芦麦褚娄窦戚岑景党宫费卜冷晏席卫米柏宗瞿桂全佟应臧闵苟邬边卞姬师和仇栾"
    "隋商刁沙荣巫寇桑郎甄丛仲虞敖巩明佘池查麻苑迟邝"
)
DOUBLE_SURNAMES = (
    "欧阳",
    "司马",
    "上官",
    "诸葛",
    "东方",
    "皇甫",
    "尉迟",
    "公孙",
    "慕容",
    "长孙",
    "宇文",
    "司徒",
    "夏侯",
)

EMAIL = re.compile(r"[^\s@]+@[^\s@]+")
DATE = re.compile(
    r"(?i)(?<![0-9])(?:[0-9]{1,2}[/.-][0-9]{1,2}[/.-](?:[0-9]{4}|[0-9]{2})"
    r"|(?:1[89]|20)[0-9]{2}[/.-][0-9]{1,2}[/.-][0-9]{1,2})(?![0-9])"
    rf"|\b[0-9]{{1,2}}(?:st|nd|rd|th)?\s+{MONTH},?\s+[0-9]{{2,4}}\b"
    rf"|\b{MONTH}\s+[0-9]{{1,2}}(?:st|nd|rd|th)?,?\s+[0-9]{{2,4}}\b"
    r"|[0-9]{2,4}\s*年\s*[0-9]{1,2}\s*月(?:\s*[0-9]{1,2}\s*[日号])?"
)

# (code, what (a message code of eligibility.wording), pattern), most specific first: a span one of them claims is not reported again by a later one.
SHAPES: tuple[tuple[str, str, re.Pattern[str]], ...] = (
    ("email", "an_email", EMAIL),
    (
        "national_id",
        "a_national_id",
        re.compile(r"(?<![0-9A-Za-z])[0-9]{17}[0-9Xx](?![0-9A-Za-z])"),
    ),
    (
        "phone",
        "a_chinese_mobile",
        re.compile(r"(?<![0-9])(?:\+?86[\s-]?)?1[3-9][0-9][\s-]?[0-9]{4}[\s-]?[0-9]{4}(?![0-9])"),
    ),
    (
        "date_of_birth",
        "a_date_of_birth",
        re.compile(
            r"(?i)(?:\bD\.?O\.?B\b\.?|\bdate\s+of\s+birth\b|\bbirth\s*date\b|\bborn\b|\bbirthday\b|出生|生日)"
            rf"\s*(?:on|in|:|=|：|日期|于)?\s*(?=[0-9０-９]|{MONTH})"
        ),
    ),
    ("date", "a_date", DATE),
    (
        "record_number",
        "a_record_number",
        re.compile(
            r"(?i)(?:(?<![a-z])(?:MRN|MR|NHS|HN|UR|EMR|EHR|PID|hosp(?:ital)?|record|chart|case)(?![a-z])"
            r"|病历号|住院号|病案号|门诊号|ID号)"
            r"\s*(?:no\.?|num(?:ber)?|#)?\s*[:#：=]?\s*[A-Za-z]{0,3}-?[0-9][0-9-]{3,}"
        ),
    ),
    (
        "phone",
        "a_phone_number",
        re.compile(r"(?<![0-9A-Za-z])\+?[0-9(][0-9 ().-]{6,}[0-9](?![0-9])"),
    ),
    ("record_number", "a_long_number", re.compile(r"\d{6,}")),
    ("name", "a_name", re.compile(r"\b(?:Mr|Mrs|Ms|Miss|Mx|Mme|Herr|Frau)\.?\s+[A-Z][a-z]+")),
    ("name", "a_name", re.compile(r"\b[A-Z][a-z]+(?:[-'][A-Z][a-z]+)?,\s*[A-Z]\.(?:\s*[A-Z]\.)*")),
    (
        "name",
        "a_name",
        re.compile(
            rf"(?i)(?:\bname\b|\bpatient\s+name\b|姓名|名字|患者|病人)\s*[:：=]?\s*(?:[A-Z][a-z]+|[{HAN}]{{2,4}})"
        ),
    ),
    # A Chinese name standing alone in other text: a common surname and one or two more characters.
    (
        "name",
        "a_chinese_name",
        re.compile(
            rf"(?<![{HAN}])(?:{'|'.join(DOUBLE_SURNAMES)}|[{SURNAMES}])[{HAN}]{{1,2}}(?![{HAN}])",
        ),
    ),
)

# The patient reference alone: any words or Chinese characters are a name.
REFERENCE_NAMES = (
    # "John Smith", "Smith, J", "J. Smith" (in any alphabet)
    re.compile(r"[^\W\d_]{2,}[\s,.]+[^\W\d_]+|[^\W\d_]+[\s,.]+[^\W\d_]{2,}"),
    re.compile(rf"[{HAN}]"),
)


def _plausible_date(text: str) -> bool:
    """Numbers such as 12-34-56 have a date's shape but no day and month: not a date."""
    parts = re.findall(r"[0-9]+", text)
    if len(parts) != 3:
        return True  # a date in words or in Chinese
    numbers = [int(p) for p in parts]
    if len(parts[0]) == 4:  # year first
        return 1 <= numbers[1] <= 12 and 1 <= numbers[2] <= 31
    day_month = numbers[:2]
    return min(day_month) >= 1 and min(day_month) <= 12 and max(day_month) <= 31


def find_identifiers(text: str) -> list[Finding]:
    """Every kind of identifier in `text`, each once, in a stable order."""
    claimed: list[tuple[int, int]] = []
    found: list[Finding] = []
    for code, what, pattern in SHAPES:
        for match in pattern.finditer(text or ""):
            start, end = match.span()
            if any(start < e and s < end for s, e in claimed):
                continue
            if code == "phone" and not 8 <= sum(c.isdigit() for c in match.group()) <= 15:  # E.164: at most 15
                continue
            if code == "date" and not _plausible_date(match.group()):
                continue
            claimed.append((start, end))
            if code == "date_of_birth":  # the date that follows is part of it
                following = DATE.search(text, end)
                if following is not None and following.start() - end < 3:
                    claimed.append(following.span())
            finding = Finding(code, Message(what))
            if finding not in found:
                found.append(finding)
    return found


def check_reference(
    reference: str, pattern: str = DEFAULT_REFERENCE_PATTERN, hint: str = DEFAULT_REFERENCE_HINT
) -> list[Finding]:
    """Every problem with a patient reference: identifiers in it, then whether it has the site's shape."""
    reference = (reference or "").strip()
    found = find_identifiers(reference)
    words = EMAIL.sub(" ", reference)  # "jane@example.org" is an address, not a name
    if not any(f.code == "name" for f in found) and any(p.search(words) for p in REFERENCE_NAMES):
        found.append(Finding("name", Message("a_name")))
    if not re.fullmatch(pattern.removeprefix("^").removesuffix("$"), reference):
        found.append(Finding("shape", Message("reference_hint") if hint == DEFAULT_REFERENCE_HINT else hint))
    return found
