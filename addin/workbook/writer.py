"""Write result tabs to an .xlsx file: Excel tables, accounting formats, atomic save.

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
import math
import os
import re
import stat
import tempfile
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import SupportsFloat, cast

import numpy as np
import pandas as pd
import xlsxwriter
import xlsxwriter.exceptions
from xlsxwriter.utility import xl_col_to_name, xl_rowcol_to_cell

from addin.workbook.contract import HEADER_TEXT_LIMIT, excel_length, fit_cell_text
from addin.workbook.tabs import NUMBER_FORMATS, Formula, Tab

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
    """Each distinct cell format is built once and reused (as pandas' xlsxwriter engine does)."""

    def __init__(self, wb: xlsxwriter.Workbook) -> None:
        self.wb = wb
        self.cache: dict[tuple[str, bool, bool], object] = {}
        self.title = wb.add_format({"bold": True, "font_size": 14})
        self.subtitle = wb.add_format({"italic": True, "font_color": "#595959"})
        self.caption = wb.add_format({"bold": True, "font_size": 12, "font_color": "#1F4E78"})
        self.header = wb.add_format(
            {"bold": True, "bottom": 1, "bg_color": "#DDEBF7", "text_wrap": True}
        )
        self.passed = wb.add_format({"bold": True, "font_color": "#006100", "bg_color": "#C6EFCE"})
        self.failed = wb.add_format({"bold": True, "font_color": "#9C0006", "bg_color": "#FFC7CE"})

    def kind(self, kind: str, bold: bool = False, wrap: bool = False) -> object:
        key = (kind, bold, wrap)
        if key not in self.cache:
            spec: dict[str, object] = {"num_format": NUMBER_FORMATS[kind]}
            if bold:
                spec["bold"] = True
            if wrap:
                spec.update({"text_wrap": True, "valign": "top"})
            self.cache[key] = self.wb.add_format(spec)
        return self.cache[key]


def _cell_values(series: pd.Series, kind: str) -> list[object]:
    """Plain Python values for xlsxwriter: None for blanks, datetimes for dates."""
    if kind == "date":
        d = pd.to_datetime(series, errors="coerce")
        return [None if pd.isna(x) else x.to_pydatetime() for x in d]
    if kind in ("money", "qty", "price", "int", "percent"):
        a = pd.to_numeric(series, errors="coerce").to_numpy(np.float64)
        return [None if not math.isfinite(x) else float(x) for x in a]
    return [
        "" if (x is None or (isinstance(x, float) and math.isnan(x))) else fit_cell_text(str(x))
        for x in series
    ]


def _width(header: str, values: Iterable[object], kind: str, fixed: float | None) -> float:
    if fixed is not None:
        return fixed
    if kind in ("money",):
        return max(len(header) + 2, 15)
    if kind in ("qty", "price", "int", "percent"):
        return max(len(header) + 2, 12)
    if kind == "date":
        return max(len(header) + 2, 11)
    sample = [len(str(v)) for v, _ in zip(values, range(2000), strict=False) if v]
    return float(min(max([len(header) + 2, *sample]) + 1, 60))


_PLACEHOLDER = re.compile(r"\{([^}]+)\}")


def _row_formula(template: str, letters: dict[str, str], row: int) -> str:
    return _PLACEHOLDER.sub(lambda m: f"{letters[m.group(1)]}{row + 1}", template)


def _write_table(wb: xlsxwriter.Workbook, ws, tab: Tab, fmt: _Formats) -> None:
    cols = tab.columns
    data = tab.data
    n = len(data)
    top = Tab.HEADER_ROW
    has_totals = any(c.total for c in cols)
    if top + 1 + n + int(has_totals) > EXCEL_MAX_ROWS:
        raise OutputError(
            f"The {tab.name} tab would need {n:,} rows, more than Excel's 1,048,576 per sheet. "
            "Use the aggregated Backflush tab (the default) or split the period."
        )
    letters = {c.header: xl_col_to_name(i) for i, c in enumerate(cols)}
    first_data = top + 1
    last_data = top + max(n, 1)
    values = {c.header: _cell_values(data[c.header], c.kind) for c in cols}
    table_cols = []
    for c in cols:
        spec: dict[str, object] = {"header": c.header, "format": fmt.kind(c.kind, wrap=c.wrap)}
        if has_totals:
            if c.total:
                rng = f"{letters[c.header]}{first_data + 1}:{letters[c.header]}{last_data + 1}"
                spec["total_function"] = f"SUBTOTAL(109,{rng})"
                total = sum(v for v in values[c.header] if isinstance(v, float))
                spec["total_value"] = round(total, 2) if c.kind == "money" else total
            elif c is cols[0]:
                spec["total_string"] = "Total"
        table_cols.append(spec)
    ws.add_table(
        top,
        0,
        last_data + int(has_totals),
        len(cols) - 1,
        {
            "name": tab.table_name or tab.name.replace(" ", ""),
            "columns": table_cols,
            "total_row": has_totals,
            "style": "Table Style Medium 2",
            "autofilter": True,
        },
    )
    for j, c in enumerate(cols):
        f = fmt.kind(c.kind, wrap=c.wrap)
        vals = values[c.header]
        if c.formula:
            mask = (
                data[c.formula_rows].to_numpy(bool) if c.formula_rows else np.ones(len(vals), bool)
            )
            for i, v in enumerate(vals):
                r = first_data + i
                if mask[i]:
                    text = _row_formula(c.formula, letters, r)
                    ws.write_formula(r, j, text, f, "" if v is None else v)
                elif v is not None:
                    ws.write(r, j, v, f)
        elif c.kind == "date":
            for i, v in enumerate(vals):
                if v is not None:
                    ws.write_datetime(first_data + i, j, v, f)
        elif c.kind == "text":
            for i, v in enumerate(vals):
                if v:
                    ws.write_string(first_data + i, j, v, f)
        else:
            for i, v in enumerate(vals):
                if v is not None:
                    ws.write_number(first_data + i, j, v, f)
        ws.set_column(j, j, _width(c.header, vals, c.kind, c.width))
    # wrapped text: give each row the height its longest wrapped cell needs (not every
    # application grows rows by itself on opening)
    for c in cols:
        if c.wrap:
            chars = max(int((c.width or 60) * 1.15), 10)
            for i, v in enumerate(values[c.header]):
                lines = -(-len(v) // chars) if isinstance(v, str) and v else 1
                if lines > 1:
                    ws.set_row(first_data + i, 15 * lines)
    total_row = last_data + 1  # 0-based row of the totals row
    for k, (label, formula, value) in enumerate(tab.checks):
        r = total_row + 2 + k
        text = re.sub(
            r"\{([^}:]+):total\}", lambda m: f"{letters[m.group(1)]}{total_row + 1}", formula
        )
        ws.write_string(r, 0, label, fmt.header)
        ws.write_formula(r, 1, text, fmt.kind("money", bold=True), value)
    ws.set_row(top, 30)
    ws.freeze_panes(top + 1, 1 if len(cols) > 6 else 0)
    ws.repeat_rows(top)


def _write_blocks(
    wb: xlsxwriter.Workbook, ws, tab: Tab, fmt: _Formats
) -> list[tuple[int, int, int]]:
    """Write the free-form blocks; returns (first_row, last_row, n_cols) of each block's data."""
    row = Tab.HEADER_ROW
    spans = []
    widths: dict[int, float] = {}
    for block in tab.blocks:
        ws.write_string(row, 0, block.caption, fmt.caption)
        row += 1
        for j, h in enumerate(block.header):
            ws.write_string(row, j, h, fmt.header)
            widths[j] = max(widths.get(j, 0), len(h) + 2)
        row += 1
        first = row
        n_cols = len(block.header)
        for values in block.rows:
            kinds = list(block.kinds)
            if len(values) > n_cols:  # the row names the kind of its last value
                kinds[n_cols - 1] = values[n_cols]  # type: ignore[call-overload]
            for j, (v, kind) in enumerate(zip(values[:n_cols], kinds, strict=False)):
                if v is None or (isinstance(v, float) and math.isnan(v)):
                    continue
                if isinstance(v, Formula):
                    cached = v.value
                    if isinstance(cached, str):
                        style = (
                            fmt.passed
                            if cached == "PASS"
                            else fmt.failed
                            if cached == "FAIL"
                            else None
                        )
                    else:
                        k = kind if kind != "text" else "qty"
                        style = fmt.kind(k)
                    ws.write_formula(row, j, v.text, style, cached)
                    widths[j] = max(widths.get(j, 0), 16)
                elif isinstance(v, str):
                    v = fit_cell_text(v)
                    style = fmt.passed if v == "PASS" else fmt.failed if v == "FAIL" else None
                    ws.write_string(row, j, v, style) if style else ws.write_string(row, j, v)
                    widths[j] = max(widths.get(j, 0), min(len(v) + 2, 70))
                elif isinstance(v, (dt.date, dt.datetime)):
                    ws.write_datetime(row, j, v, fmt.kind("date"))
                else:
                    number = float(cast(SupportsFloat, v))
                    k = kind if kind != "text" else ("int" if number.is_integer() else "qty")
                    ws.write_number(row, j, number, fmt.kind(k))
                    widths[j] = max(widths.get(j, 0), 16)
            row += 1
        spans.append((first, row - 1, len(block.header)))
        row += 1
    for j, w in widths.items():
        ws.set_column(j, j, w)
    return spans


def write_tabs(
    tabs: list[Tab], path: Path, company: str = "", period: str = "", run_note: str = ""
) -> None:
    """Write ``tabs`` as a new workbook at ``path`` (atomically).

    Raises OutputError, before anything is written, when the page header or footer would be
    longer than Excel holds (validation keeps Company within contract.COMPANY_TEXT_LIMIT)."""
    header = page_text(f"&L{_escape(company)}&C&A&R{_escape(period)}", "Company")
    footer = page_text(f"&L{_escape(run_note)}&RPage &P of &N", "run note")

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
            ws = wb.add_worksheet(tab.name)
            ws.write_string(0, 0, fit_cell_text(tab.title), fmt.title)
            if tab.subtitle:
                ws.write_string(1, 0, fit_cell_text(tab.subtitle), fmt.subtitle)
            if tab.columns:
                _write_table(wb, ws, tab, fmt)
            spans = _write_blocks(wb, ws, tab, fmt) if tab.blocks else []
            for k, chart_spec in enumerate(tab.charts):
                first, last, ncols = spans[chart_spec.block]
                if last < first:
                    continue  # nothing to draw
                chart = wb.add_chart({"type": chart_spec.kind})
                chart.add_series(
                    {
                        "name": chart_spec.title,
                        "categories": [
                            tab.name,
                            first,
                            chart_spec.category_column,
                            last,
                            chart_spec.category_column,
                        ],
                        "values": [
                            tab.name,
                            first,
                            chart_spec.value_column,
                            last,
                            chart_spec.value_column,
                        ],
                        "data_labels": {"value": True, "num_format": "#,##0"},
                        "points": None,
                    }
                )
                chart.set_title({"name": chart_spec.title, "name_font": {"size": 11}})
                chart.set_legend({"none": True})
                axis = {"num_format": "#,##0", "major_gridlines": {"visible": True}}
                if chart_spec.kind == "bar":  # values across, item labels kept clear of bars
                    chart.set_x_axis(axis)
                    chart.set_y_axis({"label_position": "low", "reverse": True})
                else:
                    chart.set_y_axis(axis)
                chart.set_size({"width": 560, "height": 300})
                ws.insert_chart(Tab.HEADER_ROW + 17 * k, 7, chart)
            ws.set_landscape()
            ws.set_paper(9)
            ws.fit_to_pages(1, 0)
            ws.set_header(header)
            ws.set_footer(footer)
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


def _escape(text: str) -> str:
    return text.replace("&", "&&")


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
