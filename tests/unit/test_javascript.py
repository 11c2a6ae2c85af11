"""The panel's pure JavaScript (``tests/js/*.test.mjs``) under ``node --test``: Debian's
``nodejs``, no build step, no npm packages."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

JS_TESTS = Path(__file__).resolve().parents[1] / "js"


def test_the_javascript_unit_tests_pass() -> None:
    node = shutil.which("node")
    assert node, "node is missing: apt-get install nodejs"
    files = sorted(str(path) for path in JS_TESTS.glob("*.test.mjs"))
    assert files
    done = subprocess.run(  # noqa: S603 - our own test files, no user input
        [node, "--test", *files], capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
    assert "# fail 0" in done.stdout
