"""Language of the body, by langdetect, made deterministic and cheap enough to run on every record."""

from __future__ import annotations

import functools

from langdetect.detector_factory import PROFILES_DIRECTORY, DetectorFactory
from langdetect.lang_detect_exception import LangDetectException

# Measured on the fixture bodies and 2,000 bench copies: 800 characters and 3 trials give the same answer as
# langdetect's defaults (whole text, 7 trials) on every one, at under half the cost. Detection was the
# largest single cost of a crawl; see `make bench`.
_SAMPLE_CHARS = 800
_TRIALS = 3
_MIN_CHARS = 20
# langdetect samples n-grams at random; a fixed seed makes the same text give the same answer every run.
_SEED = 0


@functools.cache
def _factory() -> DetectorFactory:
    factory = DetectorFactory()
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
