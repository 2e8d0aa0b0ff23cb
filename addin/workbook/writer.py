"""Write result tabs to an .xlsx file: Excel tables, accounting formats, atomic save.

Each tab is laid out by ``layout.sheet_layout`` (the same layout the xlwings writer uses);
this module only translates it into xlsxwriter calls.

The file is written to a temporary file in the target folder and moved into place only when
complete, so a crash or a kill leaves either the old file or the new one, never a broken one.
Formulas use plain A1 references and table-qualified SUBTOTALs so that Excel and LibreOffice
both evaluate them; every formula cell also carries the engine's figure as its cached value.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import errno
import glob
import os
import stat
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import SupportsFloat, cast

import xlsxwriter
import xlsxwriter.exceptions
from xlsxwriter.format import Format
from xlsxwriter.utility import xl_rowcol_to_cell
from xlsxwriter.worksheet import Worksheet

from addin.workbook.contract import HEADER_TEXT_LIMIT, excel_length
from addin.workbook.layout import (
    STYLES,
    ChartLayout,
    PageSetup,
    Region,
    SheetLayout,
    Style,
    TableColumn,
    TableLayout,
    page_setup,
    region_cells,
    sheet_layout,
)
from addin.workbook.tabs import Tab

EXCEL_MAX_ROWS = 1_048_576


class OutputError(OSError):
    """The result file could not be written; the message says why and what to do."""


TEMP_SUFFIX = ".tmp.xlsx"


TEMP_STEM_BYTES = 100  # the output's stem in a temporary file's name, at most (bytes)


def _temp_stem(path: Path) -> str:
    """The output's stem as it appears in its temporary files' names: cut to TEMP_STEM_BYTES
    so that the temporary name stays within the file system's 255 bytes a name."""
    stem = Path(path).stem
    while len(os.fsencode(stem)) > TEMP_STEM_BYTES:
        stem = stem[:-1]
    return stem


def temp_pattern(path: Path) -> str:
    """The glob of ``atomic_write``'s temporary files for ``path``: hidden, ``.tmp.xlsx``."""
    return f".{glob.escape(_temp_stem(path))}.*{TEMP_SUFFIX}"


def lock_file(path: Path) -> Path | None:
    """The lock file Excel or LibreOffice keeps beside ``path`` while it is open, if any.

    Excel: ``~$NAME.xlsx`` (for longer names the first two characters of NAME are replaced);
    LibreOffice: ``.~lock.NAME.xlsx#``.

    Raises OutputError when the folder cannot be looked into. A candidate name too long for
    the file system cannot exist (the program holding the file could not have made it).
    """
    path = Path(path)
    name = path.name
    for candidate in (f"~${name}", f"~${name[2:]}", f".~lock.{name}#"):
        lock = path.with_name(candidate)
        try:
            if stat.S_ISREG(os.stat(lock).st_mode):
                return lock
        except (FileNotFoundError, NotADirectoryError):
            continue
        except OSError as e:
            if e.errno in (errno.ENAMETOOLONG, errno.ELOOP):
                continue
            raise OutputError(
                f"cannot check whether {path} is open in another program ({e.strerror or e}); "
                "check that you may use its folder, or choose another file with --out"
            ) from e
    return None


def remove_stale_temps(path: Path, older_than: float) -> list[Path]:
    """Delete temporary files an earlier, killed run left beside ``path`` (modified before
    ``older_than``, a ``time.time()``); returns those removed. A concurrent run's newer
    temporary file is left alone."""
    removed: list[Path] = []
    folder = Path(path).parent
    try:
        if not folder.is_dir():
            return removed
        found = list(folder.glob(temp_pattern(path)))
    except OSError:
        return removed  # the folder cannot be looked into: the write will say why
    for tmp in found:
        try:
            if tmp.is_file() and tmp.stat().st_mtime < older_than:
                tmp.unlink()
                removed.append(tmp)
        except OSError:
            continue
    return removed


def _file_mode(path: Path) -> int:
    """The mode the results file gets: the old file's, else 0o666 less the umask (mkstemp
    would leave 0o600, which colleagues on a shared folder could not open)."""
    try:
        return stat.S_IMODE(path.stat().st_mode)
    except OSError:
        umask = os.umask(0)
        os.umask(umask)
        return 0o666 & ~umask


def atomic_write(path: Path, write: Callable[[Path], None]) -> None:
    """Call ``write(tmp)`` then move tmp over ``path``; on any failure remove tmp, keep path.

    The temporary file is hidden (``.<stem>.<random>.tmp.xlsx``) in the target folder, so the
    move is a rename on the same file system: a crash or kill at any moment leaves either the
    old file or the new one. Errors of the file system come back as :class:`OutputError`.
    """
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp_name = tempfile.mkstemp(
            prefix=f".{_temp_stem(path)}.", suffix=TEMP_SUFFIX, dir=path.parent
        )
    except OSError as e:
        raise OutputError(
            f"cannot create a file in {path.parent} ({e.strerror or e}); choose a folder you "
            "can write to with --out"
        ) from e
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        try:
            write(tmp)
            with open(tmp, "rb+") as fh:
                os.fsync(fh.fileno())
            os.chmod(tmp, _file_mode(path))
        except OutputError:
            raise
        except (OSError, xlsxwriter.exceptions.FileCreateError) as e:
            reason = getattr(e, "strerror", None) or str(e)
            raise OutputError(
                f"cannot write {path.name} ({reason}); free some disk space or choose another "
                "folder with --out. The previous results file, if any, is unchanged"
            ) from e
        try:
            os.replace(tmp, path)
        except PermissionError as e:
            raise OutputError(
                f"{path.name} is open or locked by another program (Excel?). Close it and run "
                "again, or choose another output file with --out."
            ) from e
        except OSError as e:
            raise OutputError(
                f"cannot replace {path.name} ({e.strerror or e}); close any program using it "
                "and run again, or choose another output file with --out"
            ) from e
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()


class _Formats:
    """Each named style of layout.STYLES becomes one xlsxwriter format, built on first use
    and reused (as pandas' xlsxwriter engine does)."""

    def __init__(self, wb: xlsxwriter.Workbook) -> None:
        self.wb = wb
        self.cache: dict[str, Format] = {}

    def __call__(self, name: str | None) -> Format | None:
        if name is None:
            return None
        if name not in self.cache:
            self.cache[name] = self.wb.add_format(_format_spec(STYLES[name]))
        return self.cache[name]


def _format_spec(style: Style) -> dict[str, object]:
    """A neutral style in xlsxwriter's words."""
    spec: dict[str, object] = {}
    if style.number_format is not None:
        spec["num_format"] = style.number_format
    if style.bold:
        spec["bold"] = True
    if style.italic:
        spec["italic"] = True
    if style.size is not None:
        spec["font_size"] = style.size
    if style.font_color:
        spec["font_color"] = style.font_color
    if style.border_bottom:
        spec["bottom"] = 1
    if style.fill:
        spec["bg_color"] = style.fill
    if style.wrap:
        spec["text_wrap"] = True
    if style.align_top:
        spec["valign"] = "top"
    return spec


def _check_fits(tab: Tab) -> None:
    """OutputError when the tab's table would not fit on one Excel sheet."""
    n = len(tab.data)
    has_totals = any(c.total for c in tab.columns)
    if tab.columns and Tab.HEADER_ROW + 1 + n + int(has_totals) > EXCEL_MAX_ROWS:
        raise OutputError(
            f"The {tab.name} tab would need {n:,} rows, more than Excel's 1,048,576 per sheet. "
            "Use the aggregated Backflush tab (the default) or split the period."
        )


def _write_table(ws: Worksheet, t: TableLayout, fmt: _Formats) -> None:
    """The Excel table (header, totals row, style), then its data column by column."""
    specs = []
    for c in t.columns:
        spec: dict[str, object] = {"header": c.header, "format": fmt(c.style)}
        if c.total is not None and c.total.formula:
            spec["total_function"] = c.total.formula.removeprefix("=")
            spec["total_value"] = c.total.value
        elif c.total is not None:
            spec["total_string"] = c.total.value
        specs.append(spec)
    options = {"name": t.name, "columns": specs, "total_row": t.totals, "style": t.style}
    ws.add_table(t.row, 0, t.last_row, len(t.columns) - 1, {**options, "autofilter": True})
    for j, c in enumerate(t.columns):
        _write_column(ws, t.first_data, j, c, fmt(c.style))


def _write_column(ws: Worksheet, first: int, j: int, c: TableColumn, f: Format | None) -> None:
    """One table column from row ``first`` down: one typed write per non-blank cell."""
    vals = c.values
    if c.formulas is not None:
        for i, (v, text) in enumerate(zip(vals, c.formulas, strict=True)):
            if text is not None:
                ws.write_formula(first + i, j, text, f, "" if v is None else v)
            elif v is not None:
                ws.write(first + i, j, v, f)
    elif c.kind == "date":
        for i, v in enumerate(vals):
            if v is not None:
                ws.write_datetime(first + i, j, cast(dt.datetime, v), f)
    elif c.kind == "text":
        for i, v in enumerate(vals):
            if v:
                ws.write_string(first + i, j, cast(str, v), f)
    else:
        for i, v in enumerate(vals):
            if v is not None:
                ws.write_number(first + i, j, cast(float, v), f)


def _write_region(ws: Worksheet, region: Region, fmt: _Formats) -> None:
    for r, c, cell in region_cells(region):
        v, f = cell.value, fmt(cell.style)
        if cell.formula:
            ws.write_formula(r, c, cell.formula, f, v)
        elif v is None:
            if f is not None:  # a styled blank (e.g. a header cell without text)
                ws.write_blank(r, c, None, f)
        elif isinstance(v, str):
            ws.write_string(r, c, v, f)
        elif isinstance(v, (dt.date, dt.datetime)):
            ws.write_datetime(r, c, v, f)  # type: ignore[arg-type]
        else:
            ws.write_number(r, c, float(cast(SupportsFloat, v)), f)


def _add_stacked_chart(
    wb: xlsxwriter.Workbook, ws: Worksheet, name: str, spec: ChartLayout
) -> None:
    """One series per column, stacked, named by the column header, with a legend."""
    chart = wb.add_chart({"type": spec.kind, "subtype": "stacked"})
    assert chart is not None
    for cell, values in spec.stacked:
        chart.add_series(
            {
                "name": [name, *cell],
                "categories": [name, *spec.categories],
                "values": [name, *values],
            }
        )
    chart.set_title({"name": spec.title, "name_font": {"size": 11}})
    chart.set_legend({"position": "bottom"})
    chart.set_x_axis({"num_format": "#,##0", "major_gridlines": {"visible": True}})
    chart.set_y_axis({"label_position": "low", "reverse": True})
    chart.set_size({"width": spec.size[0], "height": spec.size[1]})
    ws.insert_chart(*spec.anchor, chart)


def _add_chart(wb: xlsxwriter.Workbook, ws: Worksheet, name: str, spec: ChartLayout) -> None:
    if spec.stacked:
        _add_stacked_chart(wb, ws, name, spec)
        return
    chart = wb.add_chart({"type": spec.kind})
    assert chart is not None
    chart.add_series(
        {
            "name": spec.title,
            "categories": [name, *spec.categories],
            "values": [name, *spec.values],
            "data_labels": {"value": True, "num_format": "#,##0"},
            "points": None,
        }
    )
    chart.set_title({"name": spec.title, "name_font": {"size": 11}})
    chart.set_legend({"none": True})
    axis = {"num_format": "#,##0", "major_gridlines": {"visible": True}}
    if spec.kind == "bar":  # values across, item labels kept clear of bars
        chart.set_x_axis(axis)
        chart.set_y_axis({"label_position": "low", "reverse": True})
    else:
        chart.set_y_axis(axis)
    chart.set_size({"width": spec.size[0], "height": spec.size[1]})
    ws.insert_chart(*spec.anchor, chart)


def _write_sheet(
    wb: xlsxwriter.Workbook, sheet: SheetLayout, page: PageSetup, fmt: _Formats
) -> None:
    """Translate one laid-out tab into xlsxwriter calls."""
    ws = wb.add_worksheet(sheet.name)
    for region in sheet.regions:
        _write_region(ws, region, fmt)
    for table in sheet.tables:
        _write_table(ws, table, fmt)
    for j, width in sheet.widths.items():
        ws.set_column(j, j, width)
    for r, height in {**sheet.wrapped_heights, **sheet.heights}.items():
        ws.set_row(r, height)
    if sheet.freeze is not None:
        ws.freeze_panes(*sheet.freeze)
    if sheet.repeat_rows is not None:
        ws.repeat_rows(sheet.repeat_rows)
    for chart in sheet.charts:
        _add_chart(wb, ws, sheet.name, chart)
    if page.landscape:
        ws.set_landscape()
    ws.set_paper(page.paper)
    ws.fit_to_pages(page.fit_width, 0)
    ws.set_header(page.header)
    ws.set_footer(page.footer)


def write_tabs(
    tabs: list[Tab], path: Path, company: str = "", period: str = "", run_note: str = ""
) -> None:
    """Write ``tabs`` as a new workbook at ``path`` (atomically).

    Raises OutputError, before anything is written, when the page header or footer would be
    longer than Excel holds (validation keeps Company within contract.COMPANY_TEXT_LIMIT)."""
    page = page_setup(company, period, run_note)
    page_text(page.header, "Company")
    page_text(page.footer, "run note")

    def write(tmp: Path) -> None:
        wb = xlsxwriter.Workbook(
            str(tmp),
            {"strings_to_numbers": False, "strings_to_formulas": False, "strings_to_urls": False},
        )
        wb.set_properties(
            {
                "title": "Backflush month-end results",
                "company": company,
                "comments": "Written by the backflush add-in",
            }
        )
        fmt = _Formats(wb)
        for tab in tabs:
            _check_fits(tab)
            _write_sheet(wb, sheet_layout(tab), page, fmt)
        wb.close()

    atomic_write(Path(path), write)


def page_text(text: str, what: str) -> str:
    """A page header or footer as given, or OutputError when Excel could not hold it (Excel
    and xlsxwriter would drop or cut it without a word)."""
    if excel_length(text) > HEADER_TEXT_LIMIT:
        raise OutputError(
            f"the {what} makes the page header or footer {excel_length(text)} characters long, "
            f"more than the {HEADER_TEXT_LIMIT} Excel holds; shorten it. Nothing was written"
        )
    return text


__all__ = [
    "EXCEL_MAX_ROWS",
    "OutputError",
    "atomic_write",
    "lock_file",
    "remove_stale_temps",
    "temp_pattern",
    "write_tabs",
    "xl_rowcol_to_cell",
]
