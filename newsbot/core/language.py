"""Language of the body, by langdetect, made deterministic and cheap enough to run on every record."""

from __future__ import annotations

import functools
import re

import numpy
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
_ASCII_LETTER_BYTES = bytes(range(ord("A"), ord("z") + 1))
_FROM_U0300_LEAD_BYTES = bytes(range(0xCC, 0x100))
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
        own = isinstance(factory, _Factory)
        self.grams = factory.grams if own else _Grams(factory.word_lang_prob_map)
        self.rows = factory.rows if own else _Rows(factory.word_lang_prob_map)

    def append(self, text: str) -> None:
        text = self.URL_RE.sub(" ", text)
        text = self.MAIL_RE.sub(" ", text)
        text = NGram.normalize_vi(text)
        self.text += _SPACE_RUNS.sub(" ", text[: self.max_text_length])

    def cleaning_text(self) -> None:
        # langdetect means to spare Latin Extended Additional (Vietnamese) here, but compares a block number
        # with a block name, so every character from U+0300 up counts as non-Latin; kept for equal answers.
        # Counted on the UTF-8 bytes, which C does in one pass (the regex findall lists took 65 us a text):
        # ASCII letters are single bytes that no multi-byte sequence contains, and each character from U+0300
        # up is exactly one lead byte from 0xCC up (U+0080-U+02FF lead with 0xC2-0xCB).
        encoded = self.text.encode("utf-8", "surrogatepass")
        latin = len(encoded) - len(encoded.translate(None, _ASCII_LETTER_BYTES))
        not_latin = 0 if self.text.isascii() else len(encoded) - len(encoded.translate(None, _FROM_U0300_LEAD_BYTES))
        if latin * 2 < not_latin:
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
        # Stock langdetect multiplies the 55 language probabilities in place once per sampled n-gram, in a
        # Python loop, and normalises after the first sample and then after every fifth. Here the 55 are one
        # NumPy array and each run of samples between two normalisations is one chain of whole-array
        # operations. Each element still sees the same IEEE operations in the same order (products taken left
        # to right, the sum by Python's own sum()), so the floats are the same; only the loop is no longer
        # Python's.
        self.cleaning_text()
        ngrams = self._extract_ngrams()
        if not ngrams:
            raise LangDetectException(ErrorCode.CantDetectError, "No features in text.")
        rows = self.rows
        self.langprob = [0.0] * len(self.langlist)
        self.random.seed(self.seed)
        for _ in range(self.n_trial):
            alpha = self.alpha + self.random.gauss(0.0, 1.0) * self.ALPHA_WIDTH
            w = alpha / self.BASE_FREQ
            choice = self.random.choice
            prob = numpy.array(self._init_probability()) * (w + rows[choice(ngrams)])
            samples = 0
            while True:
                prob, top = _normalized(prob)
                if top > self.CONV_THRESHOLD or samples >= self.ITERATION_LIMIT:
                    break
                a = rows[choice(ngrams)]
                b = rows[choice(ngrams)]
                c = rows[choice(ngrams)]
                d = rows[choice(ngrams)]
                e = rows[choice(ngrams)]
                prob = prob * (w + a) * (w + b) * (w + c) * (w + d) * (w + e)
                samples += 5
            for j, p in enumerate(prob.tolist()):
                self.langprob[j] += p / self.n_trial


def _normalized(prob: numpy.ndarray) -> tuple[numpy.ndarray, float]:
    """langdetect's normalisation: (each probability over their sum, the largest of those)."""
    values = prob.tolist()
    total = sum(values)  # Python's sum, as langdetect's: NumPy's pairwise sum rounds differently
    # Dividing by a positive number keeps the order of the values, and rounding keeps it too, so the
    # largest quotient is the largest value's quotient: one division instead of a pass over the array.
    return prob / total, max(values) / total


class _Rows(dict[str, numpy.ndarray]):
    """An n-gram's 55 language probabilities as a NumPy array, made on first use from langdetect's list.

    Arrays for all of langdetect's 87,598 n-grams would take 38 MB; a text samples a few hundred, and the
    cache is emptied past ``_MAX_WORDS`` entries (measured: 5.5 MB for 10,000) to keep a crawl's memory flat.
    """

    def __init__(self, profiles: dict[str, list[float]]) -> None:
        super().__init__()
        self.profiles = profiles

    def __missing__(self, gram: str) -> numpy.ndarray:
        if len(self) >= _MAX_WORDS:
            self.clear()
        row = self[gram] = numpy.array(self.profiles[gram], dtype=numpy.float64)
        return row


class _Factory(DetectorFactory):
    @functools.cached_property
    def grams(self) -> _Grams:
        return _Grams(self.word_lang_prob_map)

    @functools.cached_property
    def rows(self) -> _Rows:
        return _Rows(self.word_lang_prob_map)

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
