"""The repository explains itself (docs/requirements.md#workflows).

A reader who clones this repository has only what it holds: code, comments,
messages, docs, workflows and configuration may point at documents in the
repository, never at planning documents, a house-style file or tracker
numbers that live elsewhere. Requirements are cited as
``docs/requirements.md#<anchor>``, and every ``<file>.md#<anchor>`` reference
must name a file that exists and a heading it has.

The patterns below are spelt so that this file does not match them itself
(``SP[E]C`` does not match its own text), so no file is exempt.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

# (rule, pattern, what to write instead). Case-sensitive where the word is an
# acronym, letter-bounded so that a test named after a planning document is caught too.
CITATION_RULES: tuple[tuple[str, re.Pattern[str], str], ...] = (
    ("the requirements file outside the repository",
     re.compile(r"(?<![A-Za-z])SP[E]C(?![A-Za-z])"),
     "cite docs/requirements.md#<anchor>"),
    ("a planning document outside the repository",
     re.compile(r"(?i)(?<![a-z])se[e]ds?(?![a-z])"),
     "cite docs/requirements.md#<anchor>"),
    ("the house-style file outside the repository",
     re.compile(r"STYL[E]\.md"),
     "say the rule itself"),
    ("a tracker number",
     re.compile(r"(?i)(?<![a-z])iss[u]es?[ _-]*#?\d+"),
     "cite docs/requirements.md#<anchor> or say what it was"),
    ("a tracker reference",
     re.compile(r"(?<![\w&/#])[#]\d{1,4}(?!\w)"),
     "cite docs/requirements.md#<anchor> or say what it was"),
)

# A path ending in .md followed by #anchor, not inside a URL (the path may not
# start right after ':' or '/', so https://host/x.md#y is left alone).
MD_LINK = re.compile(r"(?<![\w/:.#-])((?:\.\.?/)*[\w][\w./-]*\.md)#([\w-]+)")
FENCE = re.compile(r"^\s*(```|~~~)")
ATX = re.compile(r"^ {0,3}(#{1,6})\s+(.*?)\s*#*\s*$")
HTML_ANCHOR = re.compile(r"""<a\s+(?:name|id)\s*=\s*["']([^"']+)["']""", re.IGNORECASE)
INLINE_LINK = re.compile(r"!?\[([^\]]*)\]\([^)]*\)")


def citations_in(text: str) -> list[tuple[int, str, str, str]]:
    """(line number, matched text, rule, advice) for every citation in text."""
    found = []
    for number, line in enumerate(text.splitlines(), 1):
        for rule, pattern, advice in CITATION_RULES:
            for match in pattern.finditer(line):
                found.append((number, match.group(0), rule, advice))
    return found


def github_slug(heading: str) -> str:
    """The anchor GitHub gives a heading: link text kept, markup and
    punctuation dropped, lower case, spaces to hyphens (underscores and
    hyphens kept)."""
    text = INLINE_LINK.sub(r"\1", heading)
    text = re.sub(r"<[^>]+>", "", text)
    text = text.strip().lower()
    text = re.sub(r"[^\w\- ]", "", text)
    return text.replace(" ", "-")


def anchors_of(markdown: str) -> set[str]:
    """Every anchor a Markdown file offers: heading slugs (a repeated slug
    gets -1, -2, ... as on GitHub) and explicit <a name/id> anchors."""
    anchors: set[str] = set()
    seen: dict[str, int] = {}
    in_fence = False
    for line in markdown.splitlines():
        if FENCE.match(line):
            in_fence = not in_fence
            continue
        if in_fence:
            continue
        anchors.update(HTML_ANCHOR.findall(line))
        heading = ATX.match(line)
        if not heading:
            continue
        slug = github_slug(heading.group(2))
        if slug in seen:
            seen[slug] += 1
            anchors.add(f"{slug}-{seen[slug]}")
        else:
            seen[slug] = 0
            anchors.add(slug)
    return anchors


def broken_links(source: Path, text: str, root: Path) -> list[tuple[int, str, str]]:
    """(line, link, problem) for each .md#anchor reference in text whose file
    does not exist (relative to the citing file, or to the repository root as
    code and messages write them) or has no such heading."""
    problems = []
    cache: dict[Path, set[str]] = {}
    for number, line in enumerate(text.splitlines(), 1):
        for match in MD_LINK.finditer(line):
            target, anchor = match.group(1), match.group(2)
            candidates = [(source.parent / target).resolve(), (root / target).resolve()]
            path = next((c for c in candidates if c.is_file() and root in c.parents), None)
            if path is None:
                problems.append((number, match.group(0), f"no file {target}"))
                continue
            if path not in cache:
                cache[path] = anchors_of(path.read_text(encoding="utf-8", errors="replace"))
            if anchor not in cache[path]:
                problems.append((number, match.group(0), f"no heading with anchor #{anchor} in {path.relative_to(root)}"))
    return problems


def tracked_text_files(root: Path) -> list[tuple[Path, str]]:
    listed = subprocess.run(["git", "ls-files", "-z"], cwd=root, capture_output=True, check=True).stdout
    files = []
    for name in listed.decode().split("\0"):
        path = root / name
        if not name or not path.is_file():
            continue  # deleted in the work tree, or a symlink to a directory
        data = path.read_bytes()
        if b"\0" in data:
            continue  # binary
        files.append((path, data.decode("utf-8", errors="replace")))
    return files


# ---- the repository

def test_no_tracked_file_cites_a_document_outside_the_repository():
    report = []
    for path, text in tracked_text_files(ROOT):
        for number, matched, rule, advice in citations_in(text):
            report.append(f"{path.relative_to(ROOT)}:{number}: {matched!r} is {rule}: {advice}")
    assert not report, f"{len(report)} citation(s) a reader cannot open:\n" + "\n".join(report)


def test_every_md_anchor_reference_resolves():
    report = []
    for path, text in tracked_text_files(ROOT):
        for number, link, problem in broken_links(path, text, ROOT):
            report.append(f"{path.relative_to(ROOT)}:{number}: {link}: {problem}")
    assert not report, "references to a missing file or heading:\n" + "\n".join(report)


# Other parts of the code cite these anchors; renaming a section breaks them.
REQUIRED_ANCHORS = (
    "configuration", "naming", "tables", "alarms", "audit-trail", "retention",
    "encryption", "trust", "least-privilege", "env-contract", "approval",
    "verify-and-drift", "deploy-lock", "restore", "recovery-objectives",
    "operator-input", "gcp-secrets", "gcp-state", "gcp-release", "gcp-drift",
    "gcp-smoke", "gcp-alerts", "gcp-connections", "gcp-tls", "gcp-frontends",
    "livekit", "gcp-restore", "cost", "workflows", "local-target", "speed",
)


def test_requirements_has_every_fixed_anchor():
    anchors = anchors_of((ROOT / "docs" / "requirements.md").read_text(encoding="utf-8"))
    missing = [anchor for anchor in REQUIRED_ANCHORS if anchor not in anchors]
    assert not missing, f"docs/requirements.md lacks the sections {missing}"


def test_every_requirement_names_its_tests():
    """Each requirement line names a test (tests/...) or says 'test: pending'."""
    text = (ROOT / "docs" / "requirements.md").read_text(encoding="utf-8")
    unnamed = [item for item in requirement_items(text)
               if "tests/" not in item and "test: pending" not in item]
    assert not unnamed, "requirements without a test or 'test: pending':\n" + "\n".join(unnamed)


def requirement_items(markdown: str) -> list[str]:
    """The top-level list items of a Markdown text, continuation lines joined."""
    items: list[str] = []
    open_item = False
    for line in markdown.splitlines():
        if line.startswith("- "):
            items.append(line)
            open_item = True
        elif open_item and line.startswith("  ") and line.strip():
            items[-1] += " " + line.strip()
        else:
            open_item = False
    return items


def test_requirement_items_join_continuation_lines():
    items = requirement_items("- one\n  tests: `tests/a.py`\n\n- two\ntext\n- three test: pending\n")
    assert items == ["- one tests: `tests/a.py`", "- two", "- three test: pending"]


def test_every_test_named_by_the_requirements_exists():
    text = (ROOT / "docs" / "requirements.md").read_text(encoding="utf-8")
    report = []
    for file, name in re.findall(r"(tests/[\w/]+\.py)(?:::(\w+))?", text):
        path = ROOT / file
        if not path.is_file():
            report.append(f"{file}: no such file")
        elif name and not re.search(rf"^\s*(?:async\s+)?def {name}\(", path.read_text(encoding="utf-8"), re.M):
            report.append(f"{file}::{name}: no such test")
    assert not report, "docs/requirements.md names tests that do not exist:\n" + "\n".join(sorted(set(report)))


# ---- the checker itself: it must be able to fail. Samples that would be
# citations or links are split into adjacent literals ("SP" "EC") so this
# file's own text holds none.

S, E, I = "SP" "EC", "se" "ed", "iss" "ue"


@pytest.mark.parametrize("text", [
    f"# see {S}, rule 3",
    f"values {S} fixes",
    f"Names follow the {E}s:",
    f"{E} 001's alarm table",
    f"{E.capitalize()}s 000 and 003",
    f"def test_alarms_of_{E}s_001_and_004():",
    f"({E}s/002)",
    "house style (STYL" "E.md)",
    f"{I} 12: recovery objectives",
    f"{I.capitalize()}s #" "18 and 19",
    "fixed in #" "21",
    f"{I}_12",
])
def test_a_citation_is_found(text):
    assert citations_in(text), text


@pytest.mark.parametrize("text", [
    "docs/requirements.md#alarms",
    "SPECIFIC values; INSPECT; spec.json",
    "seeded random values; seedless",
    "the issuer of the token; an issued certificate",
    "color #000000 and #1f77b4; &#39; an HTML entity",
    "url/#12 and page#12",
    "see the approval issue below",
])
def test_ordinary_text_is_not_a_citation(text):
    assert not citations_in(text), citations_in(text)


@pytest.mark.parametrize(("heading", "slug"), [
    ("Verify and drift", "verify-and-drift"),
    ("GCP: TLS", "gcp-tls"),
    ("Deploy lock", "deploy-lock"),
    ("`bin/ops` verify & drift", "binops-verify--drift"),
    ("Before and after this round (2026-12-03 14:00-14:30)", "before-and-after-this-round-2026-12-03-1400-1430"),
    ("[Tables](x.md) and snake_case", "tables-and-snake_case"),
])
def test_github_slug(heading, slug):
    assert github_slug(heading) == slug


def test_repeated_headings_and_explicit_anchors():
    anchors = anchors_of("# A\n## A\n```\n# not a heading\n```\n<a id=\"kept\"></a>\n### Trailing ###\n")
    assert anchors == {"a", "a-1", "kept", "trailing"}


def test_links_to_missing_files_and_headings_are_reported(tmp_path):
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "x.md").write_text("# Has this\n", encoding="utf-8")
    source = tmp_path / "code.py"
    text = ("ok docs/x" ".md#has-this\n"
            "bad docs/x" ".md#not-this\n"
            "gone docs/y" ".md#has-this\n"
            "url https://example.com/docs/x.md#nothing\n")
    problems = broken_links(source, text, tmp_path)
    assert [(line, problem.split(" ")[0]) for line, _, problem in problems] == [(2, "no"), (3, "no")]
    assert "anchor #not-this" in problems[0][2] and "no file docs/y" in problems[1][2]


def test_relative_links_resolve_from_the_citing_file(tmp_path):
    (tmp_path / "docs" / "runbooks").mkdir(parents=True)
    (tmp_path / "docs" / "ops.md").write_text("## The nonce\n", encoding="utf-8")
    source = tmp_path / "docs" / "runbooks" / "r.md"
    assert broken_links(source, "[x](../ops" ".md#the-nonce)", tmp_path) == []
    assert broken_links(source, "[x](../ops" ".md#the-nonces)", tmp_path)
