"""Validation's entry point where callers have imported it: see :mod:`addin.workbook.validation`."""

from __future__ import annotations

from addin.workbook.cells import EXCEL_ERRORS, number_from_text
from addin.workbook.validation import parse_inputs

__all__ = ["parse_inputs", "number_from_text", "EXCEL_ERRORS"]
