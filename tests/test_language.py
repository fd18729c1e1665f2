"""The fast detector is a speed-up, not a new model: it must answer exactly what stock langdetect answers."""

from __future__ import annotations

import json

import pytest
from langdetect.detector import Detector

from newsbot.core.language import FastDetector, _factory, detect_language
from tests.conftest import ALL_CASES, case_id

# Texts that walk every branch of langdetect's character handling: capitalised words, runs of spaces, URLs and
# mail addresses, Vietnamese letters with combining marks, Romanian comma letters, Farsi yeh, kana, hangul,
# CJK, general punctuation, and mostly non-Latin text with Latin words in it.
ODD_TEXTS = [
    "JAKARTA, KOMPAS.com - Presiden   Joko Widodo meresmikan jalan tol baru di Jawa Tengah pada Senin (17/7/2024).",
    "Baca selengkapnya di https://www.tribunnews.com/nasional/2024/07/17/x?utm=1 atau kirim surel ke "
    "redaksi@bisnis.com",
    "Tiê\u0301ng Viê\u0323t la\u0300 ngôn ngư\u0303 cu\u0309a ngươ\u0300i Viê\u0323t "
    "va\u0300 la\u0300 ngôn ngư\u0303 chi\u0301nh thư\u0301c.",
    "Președintele României a declarat că țara își menține poziția în privința acestui acord comercial.",
    "این یک متن فارسی است که برای آزمایش NATO نوشته شده",
    "東京都は今日、新しい政策を発表しました。カタカナのテキストもあります。ひらがなも。",
    "한국어 문장은 이렇게 씁니다. 서울특별시는 대한민국의 수도입니다 — “인용” 부호…",
    "中华人民共和国国务院今天发布了新的经济政策，旨在促进国内消费和投资增长。",
    "Владимир Путин встретился с Ким Чен Ыном в Пхеньяне, сообщает ТАСС (Reuters, AP, AFP).",
    "THE QUICK BROWN FOX JUMPS over the lazy dog while THE NEWS AGENCY reports from WASHINGTON DC today.",
    "Ekonomi Indonesia tumbuh 5,05 persen secara tahunan pada kuartal II/2024, kata Badan Pusat Statistik (BPS).",
]


def _bodies() -> list[tuple[str, str]]:
    texts = []
    for case in ALL_CASES:
        body = json.loads((case.directory / "expected.json").read_text(encoding="utf-8")).get("articleBody") or ""
        if body:
            texts.append((case_id(case), body))
    return texts


def _probabilities(detector_class: type[Detector], text: str, trials: int, chars: int) -> list[tuple[str, float]]:
    return _answers(detector_class, text, trials, chars)[0]


def _answers(detector_class: type[Detector], text: str, trials: int,
             chars: int) -> tuple[list[tuple[str, float]], list[float]]:
    """What langdetect reports (languages over its 0.1 threshold), and every language's float: a last-bit
    difference in the arithmetic shows in the second first."""
    detector = detector_class(_factory())
    detector.n_trial = trials
    detector.append(text[:chars])
    reported = [(found.lang, found.prob) for found in detector.get_probabilities()]
    return reported, detector.langprob


@pytest.mark.parametrize(("name", "text"), _bodies() + [(f"odd-{i}", t) for i, t in enumerate(ODD_TEXTS)])
@pytest.mark.parametrize(("trials", "chars"), [(3, 800), (7, 10_000)])
def test_fast_detector_gives_stock_langdetect_answer(name: str, text: str, trials: int, chars: int) -> None:
    expected = _answers(Detector, text, trials, chars)
    assert expected[0], name
    assert _answers(FastDetector, text, trials, chars) == expected


def test_detect_language_codes_and_fallback() -> None:
    assert detect_language(ODD_TEXTS[-1]) == "id"
    assert detect_language(ODD_TEXTS[7]) == "zh"
    assert detect_language("Terlalu pendek", fallback="id") == "id"
    assert detect_language("1234567890 !!! ??? 1234567890 ...", fallback="en") == "en"


def test_word_cache_stays_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    import newsbot.core.language as language

    monkeypatch.setattr(language, "_MAX_WORDS", 5)
    grams = language._Grams(_factory().word_lang_prob_map)
    text = ODD_TEXTS[0] + " " + ODD_TEXTS[-1]
    for word in text.split():
        grams[word + " "]
        assert len(grams) <= 5
    detector = FastDetector(_factory())
    detector.grams = grams
    detector.n_trial = 3
    detector.append(text)
    assert [(x.lang, x.prob) for x in detector.get_probabilities()] == _probabilities(Detector, text, 3, 10_000)


@pytest.mark.parametrize("text", [
    *ODD_TEXTS,
    "ab \u0300\u0301\u0302\u0303\u0304",  # just over the threshold: combining marks count as non-Latin
    "ab \u02ff\u02fe\u02fd\u02fc\u02fb",  # just under U+0300: they do not
    "xy [\\]^_` \U0010ffff\U0001f600\u4e00\u4e01\u4e02",  # langdetect's A-z range includes [\\]^_`
    "\ud800\udfff\u0400 a",  # lone surrogates
])
def test_fast_cleaning_counts_as_langdetect_does(text: str) -> None:
    stock, fast = Detector(_factory()), FastDetector(_factory())
    stock.text = fast.text = text
    stock.cleaning_text()
    fast.cleaning_text()
    assert fast.text == stock.text
