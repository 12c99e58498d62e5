"""Measured quantities and cards: what the user knows, as probability distributions."""

from .card import CellCard, Layer, Material, builtin_cards, builtin_materials, load_card
from .errors import CardError, DataError, NassbError, NassbWarning, OptionError, warn
from .quantity import DISTRIBUTIONS, FieldSpec, Measured, parse_quantity

__all__ = [
    "DISTRIBUTIONS",
    "CardError",
    "CellCard",
    "DataError",
    "FieldSpec",
    "Layer",
    "Material",
    "Measured",
    "NassbError",
    "NassbWarning",
    "OptionError",
    "builtin_cards",
    "builtin_materials",
    "load_card",
    "parse_quantity",
    "warn",
]
