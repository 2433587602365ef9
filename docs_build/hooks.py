"""MkDocs hooks: the lessons, the errata and the API reference, made when the site is built.

Nothing here is listed per lesson. Every ``lessons/NN_slug.py`` becomes a page
``lessons/NN_slug.html``, executed (see :mod:`docs_build.notebooks`, which runs
them with :mod:`gradlab.course.execute`) and shown
by the mkdocs-jupyter plugin; the nav's "Lessons" section, the home page's
lesson table and the errata's lesson links are made from the same catalogue,
``gradlab.course.lessons()``.
"""

from __future__ import annotations

import copy
import html as htmllib
import logging
import os
import re
import shutil
import sys
import time
from pathlib import Path

import jupytext
import nbformat
from mkdocs.config.defaults import MkDocsConfig
from mkdocs.exceptions import PluginError
from mkdocs.plugins import event_priority
from mkdocs.structure.files import File, Files
from mkdocs.structure.pages import Page
from mkdocs.structure.toc import get_toc

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # MkDocs loads this file by path; its package is beside it
    sys.path.insert(0, str(ROOT))

from docs_build import api, errata, notebooks  # noqa: E402
from docs_build.mathml import render_math  # noqa: E402
from gradlab.course.catalogue import Lesson, lessons  # noqa: E402
from gradlab.course.execute import ExecutionFailed, Job  # noqa: E402
from gradlab.course.exercise import exercises_of  # noqa: E402

log = logging.getLogger("mkdocs.hooks.gradlab")

LESSON_TABLE = "<!-- lesson-table -->"
ERRATA = "<!-- errata -->"
README_SECTION = re.compile(r"<!-- readme: (?P<title>.+?) -->")
# Scripts nbconvert's template points at a CDN; the site renders math at build time instead.
_CDN_SCRIPTS = re.compile(
    r"<!-- Load mathjax -->.*?<!-- End of mathjax configuration -->"
    r"|<script type=\"module\">(?:(?!</script>).)*?mermaid(?:(?!</script>).)*?</script>",
    re.S,
)
_HEADING = re.compile(
    r'<h(?P<level>[1-6]) id="(?P<id>[^"]+)"[^>]*>(?P<body>.*?)</h(?P=level)>', re.S
)
_RST_ROLE = re.compile(r":(?:func|class|mod|meth|attr|data|exc|obj):(?=<code>)")
_RST_TILDE = re.compile(r"<code>~(?:[\w.]+\.)?(\w+)</code>")

_state: dict = {}


def cache_dir() -> Path:
    """Where executed notebooks are kept between builds: ``$GRADLAB_DOCS_CACHE`` or .cache/."""
    chosen = os.environ.get("GRADLAB_DOCS_CACHE")
    return Path(chosen).resolve() if chosen else ROOT / ".cache" / "docs"


def lesson_uri(lesson: Lesson) -> str:
    """The page's source path inside the site, ``lessons/NN_slug.ipynb``."""
    return f"lessons/{lesson.path.stem}.ipynb"


def on_config(config: MkDocsConfig) -> MkDocsConfig:
    catalogue = lessons(ROOT)
    _state["lessons"] = catalogue
    # Nav titles are plain text: drop a title's Markdown code marks.
    entries = [
        {f"{item.number}. {item.title.replace('`', '')}": lesson_uri(item)} for item in catalogue
    ]
    for item in config.nav or []:
        if isinstance(item, dict) and "Lessons" in item:
            item["Lessons"] = entries
    return config


def _page_notebook(executed: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """The executed lesson as shown: check cells without output, math as MathML."""
    page = copy.deepcopy(executed)
    for cell in page.cells:
        if cell.cell_type == "code" and "check" in cell.metadata.get("tags", []):
            cell.outputs = []
        if cell.cell_type == "markdown":
            cell.source = render_math(cell.source)
    return page


def lesson_plan(item: Lesson, store: Path) -> notebooks.Planned:
    """How the site gets lesson ``item`` executed: the job, its content key, its cache file."""
    source = item.path.read_text(encoding="utf-8")
    job = Job(f"lesson {item.number}", jupytext.reads(source, fmt="py:percent"), item.path.parent)
    path = store / "executed" / f"{item.path.stem}.ipynb"
    return notebooks.Planned(job, notebooks.content_key(source), path)


def _errata_plan(store: Path) -> notebooks.Planned:
    source = Path(errata.__file__).read_text(encoding="utf-8")
    workdir = store / "errata-run"  # the fixes write logs here: start each run empty
    shutil.rmtree(workdir, ignore_errors=True)
    workdir.mkdir(parents=True)
    job = Job("errata", errata.notebook(), workdir)
    path = store / "executed" / "errata.ipynb"
    return notebooks.Planned(job, notebooks.content_key(source), path)


@event_priority(100)  # before mkdocs-jupyter's on_files, which claims the notebooks
def on_files(files: Files, config: MkDocsConfig) -> Files:
    store = cache_dir()
    catalogue = _state["lessons"]
    started = time.perf_counter()
    try:
        executed = notebooks.execute_all(
            [*(lesson_plan(item, store) for item in catalogue), _errata_plan(store)],
            log=log.info,
            kernel_log=store / "kernels.log",
        )
    except ExecutionFailed as error:
        raise PluginError(f"executing the notebooks failed: {error}") from None
    log.info("notebooks ready in %.1f s", time.perf_counter() - started)

    for item in catalogue:
        page = _page_notebook(executed[f"lesson {item.number}"])
        path = store / "pages" / lesson_uri(item)
        path.parent.mkdir(parents=True, exist_ok=True)
        nbformat.write(page, path)
        # A File with a real source folder: mkdocs-jupyter's wrapper only understands those.
        files.append(
            File(
                lesson_uri(item),
                src_dir=str(store / "pages"),
                dest_dir=config.site_dir,
                use_directory_urls=config.use_directory_urls,
            )
        )
    _state["errata_output"] = errata.outputs(executed["errata"])
    files.append(File.generated(config, "api.md", content=api.page()))
    return files


def lesson_link(number: int) -> str:
    """A Markdown link to lesson ``number`` from a top-level page (plain text if not written)."""
    for item in _state["lessons"]:
        if item.number == number:
            return f"[Lesson {number}: {item.title}]({lesson_uri(item)})"
    return f"lesson {number} (not published yet)"


def lesson_table() -> str:
    """The home page's table of lessons: number, title (linked), exercises, command."""
    rows = ["| # | Lesson | Exercises | Run it |", "|---|---|---|---|"]
    for item in _state["lessons"]:
        count = len(exercises_of(item.number))
        rows.append(
            f"| {item.number} | [{item.title}]({lesson_uri(item)}) | {count} | "
            f"`python -m gradlab.lesson {item.number}` |"
        )
    return "\n".join(rows)


def readme_section(title: str) -> str:
    """The body of the README's ``## title`` section, so the site says what README says."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    match = re.search(rf"^## {re.escape(title)}\n(.*?)(?=^## |\Z)", text, re.M | re.S)
    if match is None:
        raise PluginError(f"README.md has no section '## {title}'")
    return match[1].strip()


def on_page_markdown(markdown: str, page: Page, config: MkDocsConfig, files: Files) -> str:
    if LESSON_TABLE in markdown:
        markdown = markdown.replace(LESSON_TABLE, lesson_table())
    if ERRATA in markdown:
        try:
            rendered = errata.render(_state["errata_output"], lesson_link)
        except errata.ErratumNotReproduced as error:
            raise PluginError(str(error)) from None
        markdown = markdown.replace(ERRATA, rendered)
    return README_SECTION.sub(lambda match: readme_section(match["title"]), markdown)


def toc_of(html: str, depth: int = 3) -> list[dict]:
    """Table-of-contents tokens for the headings in ``html``, nested by level, as MkDocs wants.

    mkdocs-jupyter builds a lesson's table of contents from its Markdown with
    inline code removed, so a heading such as "`stop_recording` and ..." gets
    a different anchor than the page's own heading: read the rendered headings.
    """
    root: dict = {"level": 0, "children": []}
    stack = [root]
    for match in _HEADING.finditer(html):
        level = int(match["level"])
        if level > depth:
            continue
        name = htmllib.unescape(re.sub(r"<[^>]+>", "", match["body"])).replace("¶", "").strip()
        token = {"level": level, "id": match["id"], "name": name, "children": []}
        while stack[-1]["level"] >= level:
            stack.pop()
        stack[-1]["children"].append(token)
        stack.append(token)
    return root["children"]


def on_page_content(html: str, page: Page, config: MkDocsConfig, files: Files) -> str:
    if page.file.src_uri.startswith("lessons/"):
        page.toc = get_toc(toc_of(html))
    html = _CDN_SCRIPTS.sub("", html)
    html = _RST_ROLE.sub("", html)
    return _RST_TILDE.sub(r"<code>\1</code>", html)
