"""The README's Quick start is what CI runs."""

from __future__ import annotations

import re

from .conftest import REPO


def _quick_start_commands() -> list[str]:
    text = (REPO / "README.md").read_text("utf-8")
    section = re.search(r"^## Quick start$(.*?)^## ", text, re.S | re.M).group(1)
    blocks = re.findall(r"```bash\n(.*?)```", section, re.S)
    return [line for block in blocks for line in block.splitlines() if line.strip()]


def test_quick_start_has_two_commands_and_ci_runs_the_second():
    commands = _quick_start_commands()
    assert len(commands) == 2
    assert commands[0].endswith("nassb report paper-cell-1")
    ci = (REPO / ".ci" / "run").read_text("utf-8")
    assert commands[1] in ci.splitlines()


def test_readme_shows_what_the_first_command_prints(nassb):
    text = (REPO / "README.md").read_text("utf-8")
    shown = re.search(r"```text\n(.*?)```", text, re.S).group(1)
    assert nassb("propagate", "paper-cell-1").out == shown


def test_every_code_folder_is_an_installed_package():
    # A subpackage missing from pyproject.toml works in an editable checkout and breaks a real
    # install: every folder with an __init__.py must be listed.
    import tomllib

    config = tomllib.loads((REPO / "pyproject.toml").read_text("utf-8"))["tool"]["setuptools"]
    listed = set(config["packages"])
    for top in ("priors", "inference", "design", "reports"):
        for init in (REPO / top).rglob("__init__.py"):
            package = "nassb." + ".".join(init.parent.relative_to(REPO).parts)
            assert package in listed, package
            assert config["package-dir"][package] == init.parent.relative_to(REPO).as_posix()
