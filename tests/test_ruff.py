"""Housekeeping that CI checks: ruff is clean (pyproject's [tool.ruff]), and git tracks no binary files."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
CHECKED = ["optalloc", "cli.py", "tests", "benchmarks"]


def test_ruff_is_clean():
    result = subprocess.run([sys.executable, "-m", "ruff", "check", "--no-cache", *CHECKED], cwd=ROOT,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr


DOCUMENTATION_IMAGES = ("docs/web-screenshot.png",)  # shown by the README; written by tests/test_web.py


@pytest.mark.skipif(shutil.which("git") is None or not (ROOT / ".git").exists(), reason="not a git checkout")
def test_the_repository_tracks_no_binary_files():
    """No wheel, workbook, build output or other binary is committed: each tracked file is text (no NUL byte),
    but for the images the README shows, named here."""
    listed = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, timeout=60)
    assert listed.returncode == 0, listed.stderr
    binary = [name for name in listed.stdout.decode("utf-8").split("\0") if name and name not in DOCUMENTATION_IMAGES
              and (ROOT / name).is_file() and b"\0" in (ROOT / name).read_bytes()[:65536]]
    assert binary == [], binary
