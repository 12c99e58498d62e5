"""``nassb studies``: the design studies in a storage."""

from __future__ import annotations

import argparse

from .common import output_options, print_json


def add_parser(commands) -> argparse.ArgumentParser:
    """Register ``studies`` on the command line's subparsers."""
    studies = commands.add_parser("studies", help="list the design studies in a storage",
                                  description="List the nassb design studies in a storage, so that a "
                                              "study's name need not be copied from the database.")
    studies.add_argument("--storage", default="sqlite:///nassb-design.db", metavar="URL",
                         help="the storage (default sqlite:///nassb-design.db)")
    output_options(studies)
    studies.set_defaults(run=run)
    return studies


def run(args) -> int:
    """Parse, call, print: the command's body."""
    from ...design.run import list_designs
    from ...priors.secrets import mask_url

    studies = list_designs(args.storage)
    if args.json:
        print_json({"storage": mask_url(args.storage), "studies": studies})
    else:
        from ...priors.display.text import studies_table

        print(studies_table(studies, mask_url(args.storage)))
    return 0
