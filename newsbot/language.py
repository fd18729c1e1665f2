"""Language of the body, by langdetect, made deterministic and cheap enough to run on every record."""

from __future__ import annotations

import functools
import re

from langdetect.detector import Detector
from langdetect.detector_factory import PROFILES_DIRECTORY, DetectorFactory
from langdetect.lang_detect_exception import ErrorCode, LangDetectException
from langdetect.utils.ngram import NGram

# Measured on the fixture bodies and 2,000 bench copies: 800 characters and 3 trials give the same answer as
# langdetect's defaults (whole text, 7 trials) on every one, at under half the cost. Detection was the
# largest single cost of a crawl; see `make bench`.
_SAMPLE_CHARS = 800
_TRIALS = 3
_MIN_CHARS = 20
# langdetect samples n-grams at random; a fixed seed makes the same text give the same answer every run.
_SEED = 0

_SPACE_RUNS = re.compile(" {2,}")
_ASCII_LETTERS = re.compile("[A-z]")  # langdetect's own test, 'A' <= ch <= 'z', which includes [\]^_`
_NOT_LATIN = re.compile("[\u0300-\U0010ffff]")
# Distinct words whose n-grams are kept: about 8 MB at most (measured: 20,000 words took 16 MB).
_MAX_WORDS = 10_000


class _CharNormalizer(dict[int, str]):
    """``str.translate`` table applying langdetect's per-character ``NGram.normalize``, filled as chars appear."""

    def __missing__(self, codepoint: int) -> str:
        normal = self[codepoint] = NGram.normalize(chr(codepoint))
        return normal


_NORMALIZE = _CharNormalizer()


class _Grams(dict[str, list[str]]):
    """The n-grams langdetect extracts from one word (with its trailing space), computed on first use.

    Words repeat across articles, so this saves most of the walk; it is emptied when it grows past
    ``_MAX_WORDS`` to keep a long crawl's memory flat.
    """

    def __init__(self, known: dict[str, list[float]]) -> None:
        super().__init__()
        self.known = known

    def __missing__(self, chunk: str) -> list[str]:
        if len(self) >= _MAX_WORDS:
            self.clear()
        found = self[chunk] = _walk(chunk, self.known)
        return found


def _walk(chunk: str, known: dict[str, list[float]]) -> list[str]:
    """langdetect's NGram.add_char + Detector._extract_ngrams over ``chunk``, from the state after a space."""
    result: list[str] = []
    grams = " "
    capital = False
    for ch in chunk:
        last = grams[-1]
        if last == " ":
            grams = " "
            capital = False
            if ch == " ":
                continue
        elif len(grams) >= NGram.N_GRAM:
            grams = grams[1:]
        grams += ch
        if ch.isupper():
            if last.isupper():
                capital = True
        else:
            capital = False
        if capital:
            continue
        for n in range(1, len(grams) + 1):
            gram = grams[-n:]
            if gram != " " and gram in known:
                result.append(gram)
    return result


class FastDetector(Detector):
    """langdetect's Detector with its per-character Python loops replaced by whole-string operations.

    Same algorithm, same random draws, same floating-point operations in the same order: it returns exactly
    what the stock Detector returns (tests/test_language.py compares the two). langdetect walks the text one
    character at a time through method calls; that walk was most of the detection cost.
    """

    def __init__(self, factory: DetectorFactory) -> None:
        super().__init__(factory)
        self.grams = factory.grams if isinstance(factory, _Factory) else _Grams(factory.word_lang_prob_map)

    def append(self, text: str) -> None:
        text = self.URL_RE.sub(" ", text)
        text = self.MAIL_RE.sub(" ", text)
        text = NGram.normalize_vi(text)
        self.text += _SPACE_RUNS.sub(" ", text[: self.max_text_length])

    def cleaning_text(self) -> None:
        # langdetect means to spare Latin Extended Additional (Vietnamese) here, but compares a block number
        # with a block name, so every character from U+0300 up counts as non-Latin; kept for equal answers.
        latin = len(_ASCII_LETTERS.findall(self.text))
        if latin * 2 < len(_NOT_LATIN.findall(self.text)):
            self.text = _ASCII_LETTERS.sub("", self.text)

    def _extract_ngrams(self) -> list[str]:
        # The n-gram state starts afresh after every space, so a word always yields the same n-grams: each
        # distinct word is walked once (per factory, see _Grams) and the text's list is their concatenation.
        grams = self.grams
        words = self.text.translate(_NORMALIZE).split(" ")
        result: list[str] = []
        for word in words[:-1]:
            if word:
                result += grams[word + " "]
        if words[-1]:
            result += grams[words[-1]]
        return result

    def _detect_block(self) -> None:
        # Stock langdetect multiplies the 55 language probabilities in place once per sampled n-gram and
        # normalises after the first sample and then after every fifth. Here each run of samples between two
        # normalisations is one pass whose products are taken in the same order, so the floats are the same.
        self.cleaning_text()
        ngrams = self._extract_ngrams()
        if not ngrams:
            raise LangDetectException(ErrorCode.CantDetectError, "No features in text.")
        profiles = self.word_lang_prob_map
        self.langprob = [0.0] * len(self.langlist)
        self.random.seed(self.seed)
        for _ in range(self.n_trial):
            prob = self._init_probability()
            alpha = self.alpha + self.random.gauss(0.0, 1.0) * self.ALPHA_WIDTH
            w = alpha / self.BASE_FREQ
            choice = self.random.choice
            prob = [p * (w + a) for p, a in zip(prob, profiles[choice(ngrams)], strict=True)]
            samples = 0
            while self._normalize_prob(prob) <= self.CONV_THRESHOLD and samples < self.ITERATION_LIMIT:
                a = profiles[choice(ngrams)]
                b = profiles[choice(ngrams)]
                c = profiles[choice(ngrams)]
                d = profiles[choice(ngrams)]
                e = profiles[choice(ngrams)]
                prob = [p * (w + qa) * (w + qb) * (w + qc) * (w + qd) * (w + qe)
                        for p, qa, qb, qc, qd, qe in zip(prob, a, b, c, d, e, strict=True)]
                samples += 5
            for j, p in enumerate(prob):
                self.langprob[j] += p / self.n_trial

    def _normalize_prob(self, prob: list[float]) -> float:
        total = sum(prob)
        prob[:] = [p / total for p in prob]
        return max(prob)


class _Factory(DetectorFactory):
    @functools.cached_property
    def grams(self) -> _Grams:
        return _Grams(self.word_lang_prob_map)

    def _create_detector(self) -> Detector:
        if not self.langlist:
            return super()._create_detector()
        return FastDetector(self)


@functools.cache
def _factory() -> DetectorFactory:
    factory = _Factory()
    factory.load_profile(PROFILES_DIRECTORY)
    factory.set_seed(_SEED)
    return factory


def warm_up() -> None:
    """Load langdetect's profiles now (about 0.3 s) rather than on the first article."""
    _factory()


def detect_language(text: str, fallback: str | None = None) -> str | None:
    """ISO 639-1 code of ``text``, or ``fallback`` (e.g. the page's lang attribute) when it is too short."""
    sample = text[:_SAMPLE_CHARS]
    if len(sample.strip()) < _MIN_CHARS:
        return fallback
    detector = _factory().create()
    detector.n_trial = _TRIALS
    detector.append(sample)
    try:
        code = detector.detect()
    except LangDetectException:
        return fallback
    # langdetect answers zh-cn / zh-tw; the record holds the ISO 639-1 part.
    return code.split("-")[0]
