"""The docs site: a strict build; executed lessons, errata, API pages.

The site is built from the lessons the session already executed (see
``executed_lessons`` in ``conftest.py``) except the shortest, which the build
executes itself, from an empty cache entry, on a fresh kernel.
"""

from __future__ import annotations

import html as htmllib
import os
import re
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from docs_build import errata, hooks, notebooks
from docs_build.mathml import render_math
from gradlab.course.catalogue import lessons
from gradlab.course.exercise import exercises_of
from gradlab.tfsupport.quiet import TENSORFLOW_NOISE
from tests.lesson_runs import shortest_lesson

ROOT = Path(__file__).resolve().parent.parent
LESSONS = lessons(ROOT)
# Anything a page would fetch from the network to be read: scripts, styles, fonts.
REMOTE = re.compile(
    r"<script[^>]+src=\"(?:https?:)?//"
    r"|<link[^>]+href=\"(?:https?:)?//[^\"]*\"[^>]*rel=\"(?:stylesheet|preload|preconnect)"
    r"|<link[^>]+rel=\"(?:stylesheet|preload|preconnect)\"[^>]*href=\"(?:https?:)?//"
    r"|@import\s+url\((?:['\"])?(?:https?:)?//"
    r"|import\(\"https?://"
)


# The build executes this lesson itself; the others come from this session's executions.
SHORTEST = shortest_lesson()


@dataclass(frozen=True)
class Build:
    """A finished ``mkdocs build``: the site folder, the cache it used, what it logged."""

    site: Path
    cache: Path
    log: str


@pytest.fixture(scope="module")
def build(tmp_path_factory, executed_lessons, docs_cache) -> Build:
    """``mkdocs build --strict`` from the lessons this session executed, bar the shortest.

    The shortest lesson's entry is taken out of the cache, so the build must
    execute it itself, and on a fresh kernel (``GRADLAB_FORK=0``): nothing but
    the lesson's own set-up quietens TensorFlow there.
    """
    where = tmp_path_factory.mktemp("docs")
    cache = where / "cache"
    shutil.copytree(docs_cache, cache)
    hooks.lesson_plan(SHORTEST, cache).path.unlink(missing_ok=True)
    env = {
        **os.environ,
        "GRADLAB_DOCS_CACHE": str(cache),
        "GRADLAB_FORK": "0",
        "NO_MKDOCS_2_WARNING": "1",
    }
    started = time.perf_counter()
    result = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "-d", str(where / "site")],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )
    seconds = time.perf_counter() - started
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    print(f"\nmkdocs build --strict, executing lesson {SHORTEST.number}: {seconds:.1f} s")
    return Build(where / "site", cache, result.stdout + result.stderr)


@pytest.fixture(scope="module")
def site(build) -> Path:
    """The built site's folder."""
    return build.site


def page_text(html: str) -> str:
    """The visible text of a page, roughly: tags removed."""
    return re.sub(r"<[^>]+>", "", re.sub(r"<(script|style)\b.*?</\1>", "", html, flags=re.S))


def lesson_page(site: Path, target) -> str:
    return (site / "lessons" / f"{target.path.stem}.html").read_text(encoding="utf-8")


@pytest.mark.slow
def test_the_build_executes_the_lesson_its_cache_lacks_and_only_that_one(build):
    assert "executing 2 notebook(s)" in build.log and "fresh kernels" in build.log, build.log
    assert f"executed lesson {SHORTEST.number} in" in build.log
    assert "executed errata in" in build.log
    others = [t.number for t in LESSONS if f"executed lesson {t.number} in" in build.log]
    assert others == [SHORTEST.number]
    plan = hooks.lesson_plan(SHORTEST, build.cache)
    assert notebooks.cached(plan.path, plan.key) is not None


@pytest.mark.slow
@pytest.mark.parametrize("target", LESSONS, ids=lambda t: f"lesson{t.number}")
def test_lesson_page_shows_executed_outputs_and_a_figure(site, target):
    html = lesson_page(site, target)
    outputs = re.findall(
        r'<div class="[^"]*jp-OutputArea-output[^"]*"[^>]*>(.*?)</div>', html, flags=re.S
    )
    assert len([o for o in outputs if page_text(o).strip()]) >= 3, "too few printed outputs"
    assert re.search(r'<img[^>]+src="data:image/png;base64,', html), "no figure"
    assert target.title.replace("`", "") in htmllib.unescape(page_text(html))


@pytest.mark.slow
@pytest.mark.parametrize("target", LESSONS, ids=lambda t: f"lesson{t.number}")
def test_lesson_page_shows_stubs_without_check_output_noise_or_tracebacks(site, target):
    html = lesson_page(site, target)
    text = page_text(html)
    assert "YOUR CODE HERE" in text
    assert "NotImplementedError" in text
    assert "gradlab.check(" in text  # the check cells are shown, their verdicts are not
    assert not re.search(rf"[✓✗] {target.number}\.\d", text), "a check's verdict is on the page"
    assert "Traceback (most recent call last)" not in text
    assert not [marker for marker in TENSORFLOW_NOISE if marker in text]


@pytest.mark.slow
def test_index_links_every_lesson_and_the_other_pages(site):
    html = (site / "index.html").read_text(encoding="utf-8")
    links = set(re.findall(r'href="([^"#]+)"', html))
    assert {"errata.html", "api.html", "howto.html"} <= links
    for target in LESSONS:
        assert f"lessons/{target.path.stem}.html" in links
        row = re.search(rf"<tr>\s*<td>{target.number}</td>.*?</tr>", html, re.S)
        assert row is not None, f"no table row for lesson {target.number}"
        assert f"<td>{len(exercises_of(target.number))}</td>" in row[0]


@pytest.mark.slow
def test_errata_page_quotes_the_errors_todays_tensorflow_raises(site):
    text = page_text((site / "errata.html").read_text(encoding="utf-8")).replace("&#39;", "'")
    # The checked facts of COURSE.md, one per error in the source articles.
    for message in (
        "RuntimeError: tf.gradients is not supported when eager execution is enabled. "
        "Use tf.GradientTape instead.",
        "AttributeError: module 'tensorflow._api.v2.summary' has no attribute 'FileWriter'",
        "RuntimeError: v1.summary.FileWriter is not compatible with eager execution.",
        "syntax error near unexpected token",
        "ModuleNotFoundError: No module named 'gradient_checker'",
        "has no attribute 'mean_squared_error'",
        "expected min_ndim=2, found ndim=1. Full shape received: (100,)",
    ):
        assert message in text
    assert "Gradients agree: True" in text


@pytest.mark.slow
def test_errata_link_the_lesson_that_fixes_each_error(site):
    html = (site / "errata.html").read_text(encoding="utf-8")
    published = {target.number: target for target in LESSONS}
    for erratum in errata.ERRATA:
        section = html.split(f'id="{erratum.key}"', 1)[1].split("<h2", 1)[0]
        target = published.get(erratum.lesson)
        if target is not None:
            assert f'href="lessons/{target.path.stem}.html"' in section
        else:
            assert f"lesson {erratum.lesson} (not published yet)" in section


@pytest.mark.slow
def test_api_page_documents_the_learner_facing_functions(site):
    html = (site / "api.html").read_text(encoding="utf-8")
    for name in (
        "gradlab.check",
        "gradlab.gradcheck.check_gradients",
        "gradlab.gradcheck.numerical_gradient",
        "gradlab.teaching.gradient_checker.compute_numerical_gradient",
        "gradlab.teaching.gradient_checker.compute_gradient_error",
        "gradlab.tensorboard.log_gradients",
        "gradlab.course.lessons",
    ):
        assert f'id="{name}"' in html, name
    assert ":func:" not in page_text(html)


@pytest.mark.slow
def test_no_page_needs_the_network(site):
    offenders = []
    for path in [*site.rglob("*.html"), *site.rglob("*.css")]:
        for match in REMOTE.finditer(path.read_text(encoding="utf-8", errors="replace")):
            offenders.append(f"{path.relative_to(site)}: {match[0][:80]}")
    assert not offenders, "\n".join(offenders)


def test_math_becomes_mathml_and_code_is_left_alone():
    rendered = render_math(
        "slope $f'(x) = 6x$ and\n\n$$\\sum_i x_i$$\n\nbut `$HOME` costs $5 or $6."
    )
    assert rendered.count("<math") == 2
    assert 'display="block"' in rendered
    assert "`$HOME`" in rendered
    assert "costs $5 or $6." in rendered


def test_an_erratum_that_stops_reproducing_fails_the_build():
    printed = {(e.key, f"reproduce-{i}"): "" for e in errata.ERRATA for i in range(3)}
    with pytest.raises(errata.ErratumNotReproduced, match="eager-tf-gradients"):
        errata.render(printed, lambda number: f"lesson {number}")
