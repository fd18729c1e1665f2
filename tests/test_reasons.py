"""One vocabulary of drop reasons: the enum of the core, the README's table, and the code that emits them."""

from __future__ import annotations

import ast
import re
from pathlib import Path

from scrapy.exceptions import IgnoreRequest
from twisted.python.failure import Failure

from newsbot.core.reasons import FETCH_REASONS, Reason, Rejected
from newsbot.crawl.drops import Refused, failure_reason
from newsbot.middlewares import HostUnreachable, SafeUrlMiddleware

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "newsbot"


def readme_reasons() -> list[str]:
    """The codes in the first column of the README's table of drop reasons, in order."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## What happens when things go wrong", 1)[1]
    table = section.split("| reason | what happened |", 1)[1].split("\n\n", 1)[0]
    codes = []
    for row in table.splitlines()[2:]:
        first_cell = row.split("|")[1]
        codes += re.findall(r"`([a-z-]+)`", first_cell)
    return codes


def test_the_readme_table_has_one_row_for_each_reason_and_no_other():
    documented = readme_reasons()
    assert len(documented) == len(set(documented)), "a reason is documented twice"
    assert set(documented) == {reason.value for reason in Reason}


def test_every_rejection_of_the_core_has_its_own_reason():
    def subclasses(cls: type) -> list[type]:
        return [c for sub in cls.__subclasses__() for c in (sub, *subclasses(sub))]

    reasons = [cls.reason for cls in subclasses(Rejected)]
    assert all(isinstance(reason, Reason) for reason in reasons)
    assert len(reasons) == len(set(reasons))


def test_the_crawl_names_reasons_only_through_the_enum():
    # A bare "too-short" in a crawl component would be a second vocabulary that a rename could miss.
    # (A key of a dict of counts, such as a summary's "dropped", names no reason.)
    codes = {reason.value for reason in Reason}
    found = []
    for path in PACKAGE.rglob("*.py"):
        if path == PACKAGE / "core" / "reasons.py":
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        keys = {id(key) for node in ast.walk(tree) if isinstance(node, ast.Dict) for key in node.keys}
        keys |= {id(node.slice) for node in ast.walk(tree) if isinstance(node, ast.Subscript)}
        for node in ast.walk(tree):
            if isinstance(node, ast.Constant) and node.value in codes and id(node) not in keys:
                found.append(f"{path.relative_to(ROOT)}:{node.lineno}: {node.value!r}")
    assert not found, "\n".join(found)


def failed(error: Exception) -> Failure:
    try:
        raise error
    except Exception:
        return Failure()


def test_newsbot_s_own_refusals_carry_their_reason_whatever_their_message():
    assert failure_reason(failed(Refused(Reason.NOT_IN_FIXTURES, "no answer"))) == (Reason.NOT_IN_FIXTURES,
                                                                                    "no answer")
    assert failure_reason(failed(HostUnreachable("cannot reach x.test: DNS")))[0] is Reason.FETCH_FAILED
    middleware = SafeUrlMiddleware(frozenset())
    try:
        from scrapy import Request

        middleware.process_request(Request("http://127.0.0.1/admin"))
    except IgnoreRequest as refusal:
        assert isinstance(refusal, Refused)
        assert failure_reason(failed(refusal))[0] is Reason.UNSAFE_URL
    else:
        raise AssertionError("a loopback URL was let through")


def test_a_request_refused_for_an_unknown_reason_is_ignored_and_a_fetch_reason():
    reason, detail = failure_reason(failed(IgnoreRequest("refused by some middleware")))
    assert (reason, detail) == (Reason.IGNORED, "refused by some middleware")
    assert reason in FETCH_REASONS and Reason.TOO_SHORT not in FETCH_REASONS


def test_the_readme_names_the_reasons_of_pages_never_read_as_the_code_does():
    # The failed-crawl exit code and the ERROR level follow FETCH_REASONS; the README says which they are.
    readme = " ".join((ROOT / "README.md").read_text(encoding="utf-8").split())
    listed = readme.split("A page that could not be fetched or was refused (", 1)[1].split(")", 1)[0]
    assert set(re.findall(r"`([a-z-]+)`", listed)) == {reason.value for reason in FETCH_REASONS}
