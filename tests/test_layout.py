"""The layout the README promises: the fixture format needs no Scrapy, no crawl imports the tooling, the
README names every module, and its links and docs/'s lead somewhere."""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from pathlib import Path

from newsbot import settings
from newsbot.fixtures.tool import crawl_command

from .conftest import ROOT


def _loaded_after(*modules: str) -> set[str]:
    """Top-level packages a fresh interpreter has loaded after importing ``modules``."""
    code = f"import sys\nimport {', '.join(modules)}\nprint(' '.join(sorted({{m.split('.')[0] for m in sys.modules}})))"
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True)
    return set(proc.stdout.split())


def test_the_extraction_layer_and_the_fixture_format_import_no_scrapy():
    loaded = _loaded_after("newsbot.fixtures.case", "newsbot.fixtures.tool", "newsbot.core.extract", "newsbot.sites")
    assert "newsbot" in loaded
    assert not loaded & {"scrapy", "twisted", "scrapy_redis"}, loaded & {"scrapy", "twisted", "scrapy_redis"}


def _imported_names(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names.add(node.module)
    return names


def test_the_runtime_never_imports_the_tools():
    offenders = {}
    for path in (ROOT / "newsbot").rglob("*.py"):
        tools = sorted(name for name in _imported_names(path) if name.split(".")[0] == "tools")
        if tools:
            offenders[str(path.relative_to(ROOT))] = tools
    assert offenders == {}


def test_no_setting_of_a_crawl_names_a_tool():
    components = {**settings.EXTENSIONS, **settings.ITEM_PIPELINES, **settings.DOWNLOADER_MIDDLEWARES,
                  **settings.SPIDER_MIDDLEWARES}
    assert not [name for name in components if not name.startswith(("newsbot.", "scrapy."))]
    from tools import bench_settings

    # The bench's crawls are the project's plus the memory probe, nothing else.
    assert bench_settings.EXTENSIONS == {**settings.EXTENSIONS, "tools.memory_probe.MemoryProbe": 900}


def test_the_crawl_command_is_the_one_a_user_types():
    cmd = crawl_command("tribun", {"replay": Path("fixtures/tribun"), "discover": True},
                        {"NEWSBOT_SEEN_STORE": ""}, feed=Path("out.jsonl"), log_level="WARNING",
                        extra=["--logfile", "x.log"])
    assert cmd == [sys.executable, "-m", "scrapy", "crawl", "tribun", "-a", "replay=fixtures/tribun",
                   "-a", "discover=True", "-O", "out.jsonl:jsonlines", "-s", "NEWSBOT_SEEN_STORE=",
                   "-L", "WARNING", "--logfile", "x.log"]


def test_the_readme_layout_names_every_folder_and_tool():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## How the code is laid out", 1)[1].split("\n## ", 1)[0]
    folders = {path.name for path in (ROOT / "newsbot").iterdir() if (path / "__init__.py").is_file()}
    modules = {path.name for path in (ROOT / "newsbot").glob("*.py") if path.name != "__init__.py"}
    tools = {path.stem for path in (ROOT / "tools").glob("*.py") if path.name != "__init__.py"}
    missing = sorted(f"newsbot/{name}/" for name in folders if f"{name}/" not in section)
    missing += sorted(f"newsbot/{name}" for name in modules if name not in section)
    missing += sorted(f"tools/{name}.py" for name in tools if name not in section)
    assert missing == []


# The README and docs/ -----------------------------------------------------------------------------------------
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]


def _outside_code_blocks(text: str) -> str:
    return re.sub(r"^```.*?^```", "", text, flags=re.S | re.M)


def _prose(text: str) -> str:
    """The text outside code: a link-like ``a[1](x)`` in a code block or span is no link."""
    return re.sub(r"`[^`\n]*`", "", _outside_code_blocks(text))


def _anchors(text: str) -> set[str]:
    """The anchors GitHub gives the headings of a page: lower case, punctuation dropped, spaces as hyphens,
    a repeated heading numbered from 1."""
    anchors: set[str] = set()
    for heading in re.findall(r"^#{1,6} (.+?)\s*$", _outside_code_blocks(text), re.M):
        slug = re.sub(r"[^\w\- ]", "", heading.lower()).replace(" ", "-")
        anchor, number = slug, 0
        while anchor in anchors:
            number += 1
            anchor = f"{slug}-{number}"
        anchors.add(anchor)
    return anchors


def test_every_relative_link_of_the_readme_and_docs_points_at_a_file_and_heading_that_exist():
    broken = []
    for page in PAGES:
        for target in re.findall(r"\]\(([^)\s]+)\)", _prose(page.read_text(encoding="utf-8"))):
            if re.match(r"[a-z][a-z+.-]*:", target):  # https:, mailto:: not ours to check
                continue
            path, _, anchor = target.partition("#")
            linked = (page.parent / path).resolve() if path else page
            if not linked.exists():
                broken.append(f"{page.relative_to(ROOT)}: {target}: no such file")
            elif anchor and linked.suffix == ".md" and anchor not in _anchors(linked.read_text(encoding="utf-8")):
                broken.append(f"{page.relative_to(ROOT)}: {target}: no such heading")
    assert broken == []


def test_the_link_check_sees_links_and_headings_as_github_does():
    assert _anchors("# Web archives (WARC)\n## `scrapy warc`: the pass\n## Notes\n## Notes\n```\n# no\n```\n") == {
        "web-archives-warc", "scrapy-warc-the-pass", "notes", "notes-1"}
    assert re.findall(r"\]\(([^)\s]+)\)", _prose("[a](docs/x.md#y) `[b](c)`\n```\n[d](e)\n```\n")) == [
        "docs/x.md#y"]


def test_the_readme_stays_a_readme():
    # The reference lives in docs/; the README carries what a user needs first.
    assert len((ROOT / "README.md").read_text(encoding="utf-8").splitlines()) < 450
