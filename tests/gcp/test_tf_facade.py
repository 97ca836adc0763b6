"""Every cdktf / provider import goes through constructs_lib/gcp/tf.py.

cdktf is archived (on 2025-12-10); moving to the maintained fork (cdktn) must
stay a change to that one file. This test greps the repository.
"""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
FACADE = ROOT / "constructs_lib" / "gcp" / "tf.py"
SKIP_DIRS = {".venv", ".venv-checkov", "node_modules", "cdktf.out", "cdk.out", ".gen", ".git", "__pycache__"}
DIRECT_IMPORT = re.compile(r"^\s*(?:from|import)\s+(?:cdktf|cdktf_cdktf_provider_google)(?:[.\s,]|$)", re.MULTILINE)
DYNAMIC_IMPORT = re.compile(r"""import_module\(\s*["'](?:cdktf|cdktf_cdktf_provider_google)""")


def _python_files():
    for path in ROOT.rglob("*.py"):
        if not SKIP_DIRS & set(path.relative_to(ROOT).parts):
            yield path


def test_only_the_facade_imports_cdktf():
    offenders = [
        str(path.relative_to(ROOT))
        for path in _python_files()
        if path != FACADE and (DIRECT_IMPORT.search(path.read_text(encoding="utf-8", errors="replace"))
                               or DYNAMIC_IMPORT.search(path.read_text(encoding="utf-8", errors="replace")))
    ]
    assert offenders == [], f"import cdktf only through constructs_lib.gcp.tf: {offenders}"


def test_the_facade_does_import_them():
    """Guards the grep itself: if the pattern stopped matching, the test above would pass vacuously."""
    text = FACADE.read_text()
    assert len(DIRECT_IMPORT.findall(text)) == 2


def test_gcp_modules_use_the_facade():
    users = [p for p in (ROOT / "constructs_lib" / "gcp").glob("*.py") if p.name not in ("tf.py", "__init__.py")]
    users += list((ROOT / "stacks" / "gcp").glob("*.py"))
    for path in users:
        text = path.read_text()
        if " tf." in text or "(tf." in text:
            assert "from constructs_lib.gcp import tf" in text, path
