"""Decimal quantities (credit points, hours, marks) shown as JSON numbers in APIs."""

from decimal import Decimal
from typing import Annotated

from pydantic import PlainSerializer


def json_number(value: Decimal) -> int | float:
    """The JSON number for a decimal quantity: an integer when whole (65, not 65.0)."""
    return int(value) if value == value.to_integral_value() else float(value)


Quantity = Annotated[
    Decimal, PlainSerializer(json_number, return_type=int | float, when_used="json")
]
"""A decimal quantity in a model: exact in Python, a plain JSON number on the wire."""


def plain(value: Decimal) -> Decimal:
    """The value without trailing zeros a NUMERIC column adds (65.00 → 65, 3.1250 → 3.125)."""
    return value.quantize(Decimal(1)) if value == value.to_integral_value() else value.normalize()
