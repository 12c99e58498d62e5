"""Sphinx configuration of the nassb documentation (user guide, API reference, gallery).

Build with ``sphinx-build -W --keep-going -b html docs docs/_build/html`` (the ``docs`` extra);
``tests/test_docs.py`` runs the same build.  The notebooks are rendered as they are stored:
nothing is executed here (CI executes the tour in ``tests/test_notebook.py``).
"""

from __future__ import annotations

import nassb

project = "nassb"
author = "the nassb developers"
copyright = f"2026, {author}"
release = nassb.__version__
version = ".".join(release.split(".")[:2])

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.mathjax",
    "sphinx.ext.viewcode",
    "numpydoc",
    "myst_nb",
]

source_suffix = {".rst": "restructuredtext", ".md": "myst-nb", ".ipynb": "myst-nb"}
exclude_patterns = ["_build", "**.ipynb_checkpoints", "Thumbs.db", ".DS_Store"]
templates_path = ["_templates"]
root_doc = "index"

# API reference: one page per public name, written by autosummary under api/generated/.
autosummary_generate = True
autosummary_imported_members = True
autodoc_typehints = "none"  # the numpydoc "Parameters" sections say the types
autodoc_member_order = "bysource"
numpydoc_show_class_members = False  # the class template lists members itself
numpydoc_class_members_toctree = False
numpydoc_xref_param_type = False

# Markdown (MyST) and notebooks, rendered as stored.
myst_enable_extensions = ["colon_fence", "dollarmath", "deflist"]
myst_heading_anchors = 3
nb_execution_mode = "off"
nb_merge_streams = True
highlight_language = "text"

html_theme = "pydata_sphinx_theme"
html_title = f"nassb {release}"
html_theme_options = {
    "navigation_with_keys": False,
    "show_toc_level": 2,
    "secondary_sidebar_items": ["page-toc"],
}
html_static_path: list[str] = []
html_show_sourcelink = False



# Docstrings refer to objects by the module that defines them (nassb.design.run.run_design);
# the reference documents them where users import them (nassb.run_design).  A reference to the
# former resolves to the latter.
_EXPORTED_FROM = ("nassb", "nassb.priors", "nassb.inference", "nassb.inference.eis", "nassb.inference.risk",
                  "nassb.design")


def _documented_names() -> dict[str, str]:
    import importlib

    names: dict[str, str] = {}
    for package in reversed(_EXPORTED_FROM):  # nassb's own name wins
        module = importlib.import_module(package)
        for name in module.__all__:
            value = getattr(module, name)
            if hasattr(value, "__module__") and hasattr(value, "__qualname__"):
                names[f"{value.__module__}.{value.__qualname__}"] = f"{package}.{name}"
    return names


def setup(app):
    names = _documented_names()

    def resolve(app, env, node, contnode):
        target = names.get(node.get("reftarget", "")) if node.get("refdomain") == "py" else None
        if target is None:
            return None
        return env.get_domain("py").resolve_xref(env, node.get("refdoc"), app.builder, node["reftype"], target,
                                                 node, contnode)

    app.connect("missing-reference", resolve)
