"""Phone numbers in public texts: masked whole however written; ticket numbers, dates and amounts stay."""

from __future__ import annotations

import re
import unicodedata

import phonenumbers
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hotline.services.citizens.phones import mask_phones_in_text


@pytest.mark.parametrize(
    ("text", "public"),
    [
        # The five: missed or half-masked by the old pattern.
        ("座机010-6552 1234", "座机***"),
        ("联系 139.0013.8000", "联系 ***"),
        ("139 00 13 90 00", "***"),
        ("(010)65521234", "***"),
        ("０１０－６５５２１２３４", "***"),
        # Other layouts.
        ("电话 138-0013-8000 或 01065123456。", "电话 *** 或 ***。"),
        ("+86 138 0013 8000", "***"),
        ("0086-10-65521234", "***"),
        ("+86(10)6552-1234", "***"),
        ("（电话：13800138000）", "（电话：***）"),
        ("已与您（139 00 13 90 00）沟通", "已与您（***）沟通"),
        ("call (138 0013 8000) now", "call (***) now"),
        ("１３８　００１３　８０００找王师傅", "***找王师傅"),
        ("138—0013—8000", "***"),
        ("电话：010 - 6552 - 1234", "电话：***"),  # only phonenumbers' matcher sees this one
        ("本地号码65521234", "本地号码***"),  # no area code: only the digit-run pattern sees it
        ("身份证 11010519491231002X；", "身份证 ***；"),
        # Next to what stays.
        ("2026-11-25 13800138000", "2026-11-25 ***"),
        ("见工单20261125-000042，电话13800138000", "见工单20261125-000042，电话***"),
        ("时间 9:30-10:00，18:00 13800138000", "时间 9:30-10:00，18:00 ***"),
    ],
)
def test_phone_numbers_are_masked_whole(text, public):
    assert mask_phones_in_text(text) == public


@pytest.mark.parametrize(
    "text",
    [
        "见工单20261125-000042。",
        "工单20261125-000042、20261125-000043已合并",
        "2026-11-25",
        "2026-11-25 14:30",
        "2026年11月25日 14:30:05",
        "2026/11/25 至 2026.12.05",
        "罚款1500元",
        "金额 1,500,000 元",
        "12号楼3单元502室",
        "人民路 12 号",
        "请拨打12345热线或110",
        "邮编100010",
        "2026年",
        "",
    ],
)
def test_what_is_not_a_phone_number_stays(text):
    assert mask_phones_in_text(text) == text


# --- any valid mobile number, any separators, in any Chinese text -----------------------------

MOBILE_PREFIXES = ["130", "135", "138", "139", "150", "157", "177", "186", "189", "199"]
GROUPINGS = [(11,), (3, 4, 4), (3, 8), (3, 2, 2, 2, 2), (3, 3, 5), (4, 4, 3), (7, 4)]
SEPARATORS = [" ", "-", ".", "\u3000", "－", "—", "．", " - "]
LEADS = ["", "+86", "+86 ", "0086", "0086-", "(+86)"]
CHINESE = st.text(
    alphabet=st.sampled_from("市民反映人民路中段路面塌陷车辆难以通过请联系电话座机手机找王师傅，。；：（）“”、"),
    max_size=20,
)
FULL_WIDTH = str.maketrans("0123456789+()", "０１２３４５６７８９＋（）")


@st.composite
def written_mobiles(draw) -> tuple[str, str]:
    """(how someone wrote it, its eleven digits)."""
    digits = draw(st.sampled_from(MOBILE_PREFIXES)) + draw(st.text(alphabet="0123456789", min_size=8, max_size=8))
    groups, at = [], 0
    for size in draw(st.sampled_from(GROUPINGS)):
        groups.append(digits[at : at + size])
        at += size
    written = groups[0]
    for group in groups[1:]:
        written += draw(st.sampled_from(SEPARATORS)) + group
    written = draw(st.sampled_from(LEADS)) + written
    if draw(st.booleans()):
        written = written.translate(FULL_WIDTH)
    return written, digits


def digits_in(text: str) -> str:
    return re.sub(r"\D", "", unicodedata.normalize("NFKC", text))


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(before=CHINESE, mobile=written_mobiles(), between=CHINESE.filter(bool), after=CHINESE)
def test_no_digit_of_a_mobile_number_survives(before, mobile, between, after):
    written, digits = mobile
    assert phonenumbers.is_valid_number(phonenumbers.parse(digits, "CN"))
    ticket = "20261125-000042"
    public = mask_phones_in_text(before + written + between + ticket + after)
    assert digits_in(public) == digits_in(ticket)  # nothing of the phone number is left
    assert public == before + "***" + between + ticket + after  # and only the number is masked
