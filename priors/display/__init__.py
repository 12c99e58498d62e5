"""The display layer: how a result is laid out for a reader, below every computation.

Numbers as a metrologist writes them (:mod:`.format`), the cells and columns of every table
(:mod:`.tables`), each result's terminal text (:mod:`.text`, with the design study's
:mod:`.design_text`, the impedance fit's :mod:`.eis`, the DRT's :mod:`.drt`, the campaign's
:mod:`.campaign` and the ranking of experiments' :mod:`.ranking`), its notebook HTML
(:mod:`.html`) and its figures (:mod:`.figures`, matplotlib loaded only when one is drawn).

It depends on nothing but :mod:`nassb.priors` (the vocabulary's names, units and labels), so
that a result of :mod:`nassb.inference` or :mod:`nassb.design` renders itself (``repr``,
``_repr_html_``, ``plot()``) without importing :mod:`nassb.reports`, which assembles reports
from these pieces and holds the command line.  A result is read through its protocol
(``summary()``, ``to_json()``, ``title``, ``warnings``, ``diagnostics``), never imported.
"""
