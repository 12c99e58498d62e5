"""``python -m nassb.reports.cli``: the ``nassb`` command."""

import sys

from .app import main

sys.exit(main())
