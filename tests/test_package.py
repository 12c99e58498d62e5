"""The top-level package: its version, what dir() shows, and that importing it stays light."""

from __future__ import annotations

import subprocess
import sys
from importlib import metadata

import nassb


def test_version_is_the_installed_distributions():
    assert nassb.__version__ == metadata.version("nassb")
    assert nassb.__version__.split(".")[0].isdigit()


def test_dir_lists_the_public_names_and_nothing_the_module_imports_for_itself():
    names = dir(nassb)
    assert set(names) == {*nassb.__all__, "__version__"}
    for leaked in ("Any", "annotations", "importlib", "metadata", "_EXPORTS"):
        assert leaked not in names
    # after a lazy attribute has loaded, dir() is unchanged
    assert nassb.propagate is not None
    assert dir(nassb) == names


def test_every_public_name_resolves_and_unknown_names_raise_attribute_error():
    for name in nassb.__all__:
        assert getattr(nassb, name) is not None, name
    try:
        nassb.no_such_thing  # noqa: B018
    except AttributeError as err:
        assert "no_such_thing" in str(err)
    else:
        raise AssertionError("nassb.no_such_thing resolved")


def test_import_and_version_load_no_heavy_library():
    code = ("import sys, nassb; nassb.__version__; dir(nassb); "
            "print(','.join(m for m in ('pymc', 'arviz', 'optuna', 'pytensor', 'matplotlib') if m in sys.modules))")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True)
    assert proc.stdout.strip() == ""
