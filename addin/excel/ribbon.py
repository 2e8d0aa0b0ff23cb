"""The Backflush ribbon tab: its buttons, its customUI XML and the Python side of its callback.

Every button has the same VBA callback (``VBA_CALLBACK`` in module ``VBA_MODULE``), which
runs ``addin.excel.ribbon.on_button(control.Id)`` through xlwings' ``RunPython``;
``on_button`` then calls the function named ``Button.macro`` in ``addin.excel.macros``.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from xml.sax.saxutils import quoteattr

CUSTOMUI_NAMESPACE = "http://schemas.microsoft.com/office/2006/01/customui"
"""The namespace of xlwings' ribbon add-in template (Office 2007 schema); kept as shipped."""

STOCK_VBA_MODULE = "RibbonMyAddin"
"""The template's standard module that holds the ribbon callback."""
VBA_MODULE = "BackflushRibbon"
"""Its name in our add-in: the ribbon callback and the BF_* worksheet functions."""

VBA_CALLBACK = "OnBackflushButton"
ON_ACTION = f"{VBA_MODULE}.{VBA_CALLBACK}"
"""Module-qualified, as the template writes its own onAction."""

MACROS_MODULE = "addin.excel.macros"

TAB_ID = "backflushTab"
TAB_LABEL = "Backflush"


@dataclass(frozen=True)
class Button:
    """One ribbon button."""

    control_id: str
    """customUI ``id``; Excel hands it to the callback as ``control.Id``."""
    label: str
    """Text under or beside the button."""
    macro: str
    """Name of the function in ``addin.excel.macros`` that the button runs."""
    image_mso: str
    """Built-in Office icon (``imageMso``)."""
    screentip: str
    """Tooltip heading shown on hover."""
    large: bool = False
    """Draw as a large button."""
    needs_workbook: bool = True
    """False: works from an empty Excel (the VBA opens a blank workbook for xlwings first)."""


@dataclass(frozen=True)
class Group:
    """A labelled group of buttons on the tab."""

    group_id: str
    label: str
    buttons: tuple[Button, ...]


GROUPS: tuple[Group, ...] = (
    Group(
        "backflushMonthEnd",
        "Month-End",
        (
            Button(
                "bfValidateInputs",
                "Validate Inputs",
                "validate_inputs",
                "DataValidation",
                "Check the input sheets for missing or inconsistent data",
            ),
            Button(
                "bfRollUpStandards",
                "Roll Up Standards",
                "roll_up_standards",
                "CalculateNow",
                "Roll standard costs up the bills of material",
            ),
            Button(
                "bfRunMonthEnd",
                "Run Month-End",
                "run_month_end",
                "MacroPlay",
                "Post backflush entries and variances for the month",
                large=True,
            ),
            Button(
                "bfStartNextMonth",
                "Start Next Month",
                "start_next_month",
                "CalendarInsert",
                "Write next month's input workbook: opening = this month's closing",
            ),
        ),
    ),
    Group(
        "backflushResults",
        "Results",
        (
            Button(
                "bfClearResults",
                "Clear Results",
                "clear_results",
                "Delete",
                "Remove the result sheets written by the last run",
            ),
            Button(
                "bfExportJournal",
                "Export Journal",
                "export_journal",
                "ExportTextFile",
                "Save the journal entries as a CSV file for GL import",
            ),
            Button(
                "bfNewTemplate",
                "New Template",
                "new_template",
                "FileNew",
                "Open a new, empty backflush input workbook",
                needs_workbook=False,
            ),
        ),
    ),
)

BUTTONS: tuple[Button, ...] = tuple(button for group in GROUPS for button in group.buttons)

_BY_ID = {button.control_id: button for button in BUTTONS}


def on_button(control_id: str, opened_blank: bool = False) -> None:
    """Run the macro behind the ribbon button ``control_id`` (called from VBA).

    ``opened_blank``: Excel had no workbook open, so the VBA opened a blank one for xlwings
    (only for buttons with ``needs_workbook=False``); the macro closes it when done."""
    button = _BY_ID.get(control_id)
    if button is None:
        known = ", ".join(sorted(_BY_ID))
        raise ValueError(f"Unknown Backflush ribbon button {control_id!r}; known buttons: {known}")
    macros = importlib.import_module(MACROS_MODULE)
    macro = getattr(macros, button.macro, None)
    if macro is None:
        raise AttributeError(
            f"The {button.label!r} button needs a function {button.macro}() in {MACROS_MODULE}"
        )
    if opened_blank and button.needs_workbook:
        raise ValueError(f"The {button.label!r} button needs your input workbook open")
    if opened_blank:
        macro(close_blank=True)
    else:
        macro()


def ribbon_xml() -> str:
    """The add-in's ``customUI/customUI.xml``."""
    lines = [
        f'<customUI xmlns="{CUSTOMUI_NAMESPACE}">',
        "    <ribbon>",
        "        <tabs>",
        f"            <tab id={quoteattr(TAB_ID)} label={quoteattr(TAB_LABEL)}>",
    ]
    for group in GROUPS:
        lines.append(
            f"                <group id={quoteattr(group.group_id)} label={quoteattr(group.label)}>"
        )
        for b in group.buttons:
            size = "large" if b.large else "normal"
            lines.append(
                f"                    <button id={quoteattr(b.control_id)}"
                f" label={quoteattr(b.label)} size={quoteattr(size)}"
                f" imageMso={quoteattr(b.image_mso)} screentip={quoteattr(b.screentip)}"
                f" onAction={quoteattr(ON_ACTION)} />"
            )
        lines.append("                </group>")
    lines += ["            </tab>", "        </tabs>", "    </ribbon>", "</customUI>", ""]
    return "\n".join(lines)
