"""``nassb cards [show NAME]``: the built-in cards and materials."""

from __future__ import annotations

import argparse
import sys

from .common import output_options, print_json


def add_parser(commands) -> argparse.ArgumentParser:
    """Register ``cards`` on the command line's subparsers."""
    cards = commands.add_parser("cards", help="list the built-in cards and materials; 'cards show NAME' prints one",
                                description="List the built-in cards and materials with their descriptions; "
                                            "'nassb cards show NAME' prints a built-in card to copy from.")
    cards.add_argument("action", nargs="?", choices=("list", "show"), default="list", help="list (default) or show")
    cards.add_argument("name", nargs="?", metavar="NAME", help="with show: the built-in card to print")
    output_options(cards)
    cards.set_defaults(run=run)
    return cards


def run(args) -> int:
    """Parse, call, print: the command's body."""
    from ...priors import OptionError
    from ...priors.card import builtin_card_descriptions, builtin_material_descriptions, card_text

    if args.action == "show":
        if not args.name:
            raise OptionError("name the built-in card to show, e.g. 'nassb cards show paper-cell-1'", field="cards")
        text = card_text(args.name)
        if args.json:
            print_json({"name": args.name, "toml": text})
        else:
            sys.stdout.write(text)
        return 0
    if args.name:
        raise OptionError(f"'cards {args.name}': did you mean 'cards show {args.name}'?", field="cards")
    cards, materials = builtin_card_descriptions(), builtin_material_descriptions()
    if args.json:
        print_json({"cards": [c["name"] for c in cards], "materials": [m["name"] for m in materials],
                     "descriptions": {"cards": cards, "materials": materials}})
    else:
        from ...priors.display.text import cards_table

        print(cards_table(cards, materials))
    return 0
