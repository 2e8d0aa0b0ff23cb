"""A small, strict in-memory stand-in for the xlwings Book/Sheet/Range calls the add-in uses.

Strict: every class has ``__slots__`` and only the attributes real xlwings 0.37.8 has, with
the same parameter names (``test_fake_matches_real_xlwings`` checks this against
``xlwings.main``). Anything else raises AttributeError, so a wrong attribute or argument in
addin/excel fails a test instead of waiting for Excel.

Behaviour copied from Excel where the add-in depends on it: assigning a text that starts with
"=" to ``.value`` makes a formula unless the cell is formatted as Text ("@") or the text starts
with Excel's apostrophe prefix (which is not kept in the value); sheet names are unique
case-insensitively; ``used_range`` is the box around non-empty cells (A1 when empty).
"""

from __future__ import annotations

import re
from typing import Any

Cell = tuple[int, int]


def _col_number(letters: str) -> int:
    n = 0
    for ch in letters.upper():
        n = n * 26 + ord(ch) - 64
    return n


def _letters(col: int) -> str:
    s = ""
    while col:
        col, r = divmod(col - 1, 26)
        s = chr(65 + r) + s
    return s


_A1 = re.compile(r"^\$?([A-Za-z]{1,3})\$?(\d+)$")


def _parse(ref: str) -> Cell:
    m = _A1.match(ref)
    if not m:
        raise ValueError(f"fake xlwings: not an A1 reference: {ref!r}")
    return int(m.group(2)), _col_number(m.group(1))


class FakeFont:
    __slots__ = ("_rng",)

    def __init__(self, impl: Any) -> None:
        self._rng = impl

    def _set(self, key: str, value: object) -> None:
        for cell in self._rng._cells():
            self._rng._sheet._fonts.setdefault(cell, {})[key] = value

    @property
    def bold(self) -> bool | None:
        return self._rng._sheet._fonts.get(self._rng._cells()[0], {}).get("bold")

    @bold.setter
    def bold(self, value: bool) -> None:
        self._set("bold", value)

    @property
    def italic(self) -> bool | None:
        return self._rng._sheet._fonts.get(self._rng._cells()[0], {}).get("italic")

    @italic.setter
    def italic(self, value: bool) -> None:
        self._set("italic", value)

    @property
    def size(self) -> float | None:
        return self._rng._sheet._fonts.get(self._rng._cells()[0], {}).get("size")

    @size.setter
    def size(self, value: float) -> None:
        self._set("size", value)

    @property
    def color(self) -> str | None:
        return self._rng._sheet._fonts.get(self._rng._cells()[0], {}).get("color")

    @color.setter
    def color(self, color_or_rgb: str | tuple[int, int, int]) -> None:
        self._set("color", color_or_rgb)


class FakeRange:
    __slots__ = ("_sheet", "_r1", "_c1", "_r2", "_c2", "_options")

    def __init__(self, sheet: FakeSheet, r1: int, c1: int, r2: int, c2: int, **options: Any):
        self._sheet, self._r1, self._c1, self._r2, self._c2 = sheet, r1, c1, r2, c2
        self._options = options

    def _cells(self) -> list[Cell]:
        return [
            (r, c) for r in range(self._r1, self._r2 + 1) for c in range(self._c1, self._c2 + 1)
        ]

    def options(self, convert: Any = None, **options: Any) -> FakeRange:
        allowed = {"ndim", "err_to_str", "empty", "dates", "numbers", "expand", "chunksize"}
        unknown = set(options) - allowed
        if convert is not None or unknown:
            raise TypeError(f"fake xlwings: options not supported here: {convert} {unknown}")
        return FakeRange(self._sheet, self._r1, self._c1, self._r2, self._c2, **options)

    @property
    def sheet(self) -> FakeSheet:
        return self._sheet

    @property
    def row(self) -> int:
        return self._r1

    @property
    def column(self) -> int:
        return self._c1

    @property
    def shape(self) -> tuple[int, int]:
        return (self._r2 - self._r1 + 1, self._c2 - self._c1 + 1)

    @property
    def address(self) -> str:
        a = f"${_letters(self._c1)}${self._r1}"
        if (self._r1, self._c1) == (self._r2, self._c2):
            return a
        return f"{a}:${_letters(self._c2)}${self._r2}"

    @property
    def left(self) -> float:
        return float((self._c1 - 1) * 48)

    @property
    def top(self) -> float:
        return float((self._r1 - 1) * 15)

    # values ---------------------------------------------------------------------------
    @property
    def value(self) -> Any:
        s = self._sheet
        self._sheet.book.app._log.append(("read", s.name, self.address))
        rows = [
            [s._values.get((r, c)) for c in range(self._c1, self._c2 + 1)]
            for r in range(self._r1, self._r2 + 1)
        ]
        if self._options.get("ndim") == 2:
            return rows
        if len(rows) == 1 and len(rows[0]) == 1:
            return rows[0][0]
        if len(rows) == 1:
            return rows[0]
        if len(rows[0]) == 1:
            return [r[0] for r in rows]
        return rows

    @value.setter
    def value(self, data: Any) -> None:
        self._write(data, formula=False)

    @property
    def formula(self) -> str | list[str] | list[list[str]]:
        f = self._sheet._formulas
        return [
            [f.get((r, c), "") for c in range(self._c1, self._c2 + 1)]
            for r in range(self._r1, self._r2 + 1)
        ]

    @formula.setter
    def formula(self, value: Any) -> None:
        self._write(value, formula=True)

    def _write(self, data: Any, formula: bool) -> None:
        s = self._sheet
        s.book.app._log.append(("formula" if formula else "write", s.name, self.address))
        if not isinstance(data, (list, tuple)):
            data = [[data]]
        elif data and not isinstance(data[0], (list, tuple)):
            data = [list(data)]
        for i, row in enumerate(data):
            for j, v in enumerate(row):
                cell = (self._r1 + i, self._c1 + j)
                s._formulas.pop(cell, None)
                if isinstance(v, str) and v.startswith("'"):
                    s._values[cell] = v[1:]
                elif (
                    isinstance(v, str)
                    and v.startswith("=")
                    and (formula or s._formats.get(cell) != "@")
                ):
                    s._formulas[cell] = v  # keeps the cell's earlier value as "calculated"
                elif v is None or v == "":
                    s._values.pop(cell, None)
                else:
                    s._values[cell] = v

    # formats --------------------------------------------------------------------------
    @property
    def number_format(self) -> str:
        return self._sheet._formats.get((self._r1, self._c1), "General")

    @number_format.setter
    def number_format(self, value: str) -> None:
        self._sheet.book.app._log.append(("format", self._sheet.name, self.address))
        for cell in self._cells():
            self._sheet._formats[cell] = value

    @property
    def font(self) -> FakeFont:
        return FakeFont(self)

    @property
    def color(self) -> tuple[int, int, int] | None:
        return None

    @color.setter
    def color(self, color_or_rgb: tuple[int, int, int] | int | str | None) -> None:
        for cell in self._cells():
            self._sheet._colors[cell] = color_or_rgb

    @property
    def wrap_text(self) -> bool | None:
        return self._sheet._alignment.get((self._r1, self._c1), {}).get("wrap")

    @wrap_text.setter
    def wrap_text(self, value: bool) -> None:
        for cell in self._cells():
            self._sheet._alignment.setdefault(cell, {})["wrap"] = value

    @property
    def vertical_alignment(self) -> str | None:
        return self._sheet._alignment.get((self._r1, self._c1), {}).get("vertical")

    @vertical_alignment.setter
    def vertical_alignment(self, value: str) -> None:
        if value not in ("top", "center", "bottom", "justify", "distributed"):
            raise ValueError(f"fake xlwings: no vertical alignment {value!r}")
        for cell in self._cells():
            self._sheet._alignment.setdefault(cell, {})["vertical"] = value

    @property
    def column_width(self) -> float | None:
        return self._sheet._widths.get(self._c1)

    @column_width.setter
    def column_width(self, value: float) -> None:
        for c in range(self._c1, self._c2 + 1):
            self._sheet._widths[c] = value

    @property
    def row_height(self) -> float | None:
        return self._sheet._heights.get(self._r1)

    @row_height.setter
    def row_height(self, value: float) -> None:
        for r in range(self._r1, self._r2 + 1):
            self._sheet._heights[r] = value


class FakeTable:
    __slots__ = ("_sheet", "_name", "_range", "_style", "_totals")

    def __init__(self, sheet: FakeSheet, name: str, rng: FakeRange, style: str) -> None:
        self._sheet, self._name, self._range, self._style = sheet, name, rng, style
        self._totals = False

    @property
    def name(self) -> str:
        return self._name

    @property
    def range(self) -> FakeRange:
        if not self._totals:
            return self._range
        r = self._range
        return FakeRange(r._sheet, r._r1, r._c1, r._r2 + 1, r._c2)

    @property
    def show_totals(self) -> bool:
        return self._totals

    @show_totals.setter
    def show_totals(self, value: bool) -> None:
        self._totals = value

    @property
    def table_style(self) -> str:
        return self._style


class FakeTables:
    __slots__ = ("_sheet", "_items")

    def __init__(self, sheet: FakeSheet) -> None:
        self._sheet = sheet
        self._items: list[FakeTable] = []

    def __iter__(self):  # type: ignore[no-untyped-def]
        return iter(list(self._items))

    def __len__(self) -> int:
        return len(self._items)

    def add(
        self,
        source: FakeRange | None = None,
        name: str | None = None,
        source_type: str | None = None,
        link_source: bool | None = None,
        has_headers: bool = True,
        destination: FakeRange | None = None,
        table_style_name: str = "TableStyleMedium2",
    ) -> FakeTable:
        if source is None or source.sheet is not self._sheet:
            raise ValueError("fake xlwings: the table source must be a range on this sheet")
        taken = {t.name.lower() for s in self._sheet.book.sheets for t in s.tables}
        name = name or f"Table{len(taken) + 1}"
        if name.lower() in taken:
            raise ValueError(f"fake xlwings: a table named {name!r} already exists")
        table = FakeTable(self._sheet, name, source, table_style_name)
        self._items.append(table)
        return table


class FakeFreezePanes:
    __slots__ = ("_sheet",)

    def __init__(self, sheet: FakeSheet) -> None:
        self._sheet = sheet

    def freeze_at(self, frozen_range: str | FakeRange) -> None:
        if isinstance(frozen_range, FakeRange):
            frozen_range = frozen_range.address
        self._sheet._frozen = frozen_range.replace("$", "")


class FakeChart:
    __slots__ = ("chart_type", "_source", "_box")

    def __init__(
        self, chart_type: str | None, source: FakeRange | None, box: tuple[float, ...] = ()
    ) -> None:
        self.chart_type = chart_type
        self._source = source
        self._box = box  # left, top, width, height (points)


class FakeCharts:
    __slots__ = ("_items",)

    def __init__(self) -> None:
        self._items: list[FakeChart] = []

    def __len__(self) -> int:
        return len(self._items)

    def add(
        self,
        left: float = 0,
        top: float = 0,
        width: float = 355,
        height: float = 211,
        chart_type: str | None = None,
        source: FakeRange | None = None,
        plot_by: Any = None,
    ) -> FakeChart:
        chart = FakeChart(chart_type, source, (left, top, width, height))
        self._items.append(chart)
        return chart


class FakeSheet:
    __slots__ = (
        "_book",
        "_name",
        "_values",
        "_formulas",
        "_formats",
        "_fonts",
        "_colors",
        "_alignment",
        "_widths",
        "_heights",
        "_frozen",
        "_tables",
        "_charts",
        "_deleted",
    )

    def __init__(self, book: FakeBook, name: str) -> None:
        self._book, self._name = book, name
        self._values: dict[Cell, object] = {}
        self._formulas: dict[Cell, str] = {}
        self._formats: dict[Cell, str] = {}
        self._fonts: dict[Cell, dict[str, object]] = {}
        self._colors: dict[Cell, object] = {}
        self._alignment: dict[Cell, dict[str, object]] = {}
        self._widths: dict[int, float] = {}
        self._heights: dict[int, float] = {}
        self._frozen: str | None = None
        self._tables = FakeTables(self)
        self._charts = FakeCharts()
        self._deleted = False

    def _alive(self) -> None:
        if self._deleted:
            raise RuntimeError(f"fake xlwings: sheet {self._name!r} was deleted")

    @property
    def name(self) -> str:
        return self._name

    @name.setter
    def name(self, value: str) -> None:
        self._alive()
        if any(s is not self and s.name.lower() == value.lower() for s in self._book.sheets):
            raise ValueError(f"fake xlwings: a sheet named {value!r} already exists")
        self._name = value

    @property
    def book(self) -> FakeBook:
        return self._book

    @property
    def index(self) -> int:
        return self._book._sheets.index(self) + 1

    def range(
        self,
        cell1: str | tuple[int, int] | FakeRange,
        cell2: str | tuple[int, int] | FakeRange | None = None,
    ) -> FakeRange:
        self._alive()

        def corner(c: Any) -> tuple[Cell, Cell]:
            if isinstance(c, FakeRange):
                return (c._r1, c._c1), (c._r2, c._c2)
            if isinstance(c, tuple):
                if len(c) != 2 or not all(isinstance(x, int) and x >= 1 for x in c):
                    raise ValueError(f"fake xlwings: bad cell tuple {c!r}")
                return c, c
            if isinstance(c, str):
                parts = c.split(":")
                return _parse(parts[0]), _parse(parts[-1])
            raise TypeError(f"fake xlwings: bad range argument {c!r}")

        a1, a2 = corner(cell1)
        if cell2 is not None:
            _, a2 = corner(cell2)
        (r1, c1), (r2, c2) = a1, a2
        return FakeRange(self, min(r1, r2), min(c1, c2), max(r1, r2), max(c1, c2))

    @property
    def used_range(self) -> FakeRange:
        cells = set(self._values) | set(self._formulas)
        if not cells:
            return self.range("A1")
        rows = [r for r, _ in cells]
        cols = [c for _, c in cells]
        return FakeRange(self, min(rows), min(cols), max(rows), max(cols))

    @property
    def tables(self) -> FakeTables:
        return self._tables

    @property
    def charts(self) -> FakeCharts:
        return self._charts

    @property
    def freeze_panes(self) -> FakeFreezePanes:
        return FakeFreezePanes(self)

    def activate(self) -> None:
        self._alive()
        self._book._active = self

    def delete(self) -> None:
        self._alive()
        if len(self._book._sheets) == 1:
            raise RuntimeError("fake xlwings: a workbook must keep at least one sheet")
        self._book._sheets.remove(self)
        self._deleted = True
        self._book.app._log.append(("delete", self._name, ""))


class FakeSheets:
    __slots__ = ("_book",)

    def __init__(self, book: FakeBook) -> None:
        self._book = book

    def __iter__(self):  # type: ignore[no-untyped-def]
        return iter(list(self._book._sheets))

    def __len__(self) -> int:
        return len(self._book._sheets)

    def __getitem__(self, key: int | str) -> FakeSheet:
        if isinstance(key, int):
            return self._book._sheets[key]
        for s in self._book._sheets:
            if s.name.lower() == key.lower():
                return s
        raise KeyError(key)

    def __contains__(self, key: str) -> bool:
        return any(s.name.lower() == key.lower() for s in self._book._sheets)

    def add(
        self,
        name: str | None = None,
        before: FakeSheet | None = None,
        after: FakeSheet | None = None,
    ) -> FakeSheet:
        sheets = self._book._sheets
        name = name or f"Sheet{len(sheets) + 1}"
        if name.lower() in (s.name.lower() for s in sheets):
            raise ValueError(f"Sheet named '{name}' already present in workbook")
        if len(name) > 31 or any(ch in name for ch in "[]:*?/\\"):
            raise ValueError(f"fake xlwings: Excel does not accept the sheet name {name!r}")
        sheet = FakeSheet(self._book, name)
        if after is not None:
            sheets.insert(sheets.index(after) + 1, sheet)
        elif before is not None:
            sheets.insert(sheets.index(before), sheet)
        else:
            sheets.insert(sheets.index(self._book._active), sheet)
        self._book._active = sheet
        self._book.app._log.append(("add", name, ""))
        return sheet


class FakeBooks:
    __slots__ = ("_app", "_books")

    def __init__(self, app: FakeApp) -> None:
        self._app = app
        self._books: list[FakeBook] = []

    def open(self, fullname: str | None = None) -> FakeBook:
        book = FakeBook(str(fullname), app=self._app)
        self._books.append(book)
        return book


class FakeApp:
    __slots__ = ("_status", "_screen", "_alerts", "_log", "_books")

    def __init__(self) -> None:
        self._status: str | bool = False
        self._screen = True
        self._alerts: list[tuple[str, str | None, str, str | None]] = []
        self._log: list[tuple[str, str, str]] = []
        self._books = FakeBooks(self)

    @property
    def status_bar(self) -> str | bool:
        return self._status

    @status_bar.setter
    def status_bar(self, value: str | bool) -> None:
        self._status = value
        self._log.append(("status", str(value), ""))

    @property
    def screen_updating(self) -> bool:
        return self._screen

    @screen_updating.setter
    def screen_updating(self, value: bool) -> None:
        self._screen = value

    @property
    def books(self) -> FakeBooks:
        return self._books

    def alert(
        self,
        prompt: str,
        title: str | None = None,
        buttons: str = "ok",
        mode: str | None = None,
        callback: str | None = None,
    ) -> str | None:
        if buttons not in ("ok", "ok_cancel", "yes_no", "yes_no_cancel"):
            raise ValueError(buttons)
        if mode not in (None, "info", "critical"):
            raise ValueError(mode)
        self._alerts.append((prompt, title, buttons, mode))
        return "ok"


class FakeBook:
    __slots__ = ("_fullname", "_app", "_sheets", "_active")

    def __init__(self, fullname: str, app: FakeApp | None = None) -> None:
        self._fullname = fullname
        self._app = app or FakeApp()
        self._sheets: list[FakeSheet] = [FakeSheet(self, "Sheet1")]
        self._active = self._sheets[0]

    @property
    def name(self) -> str:
        return self._fullname.replace("\\", "/").rsplit("/", 1)[-1]

    @property
    def fullname(self) -> str:
        return self._fullname

    @property
    def app(self) -> FakeApp:
        return self._app

    @property
    def sheets(self) -> FakeSheets:
        return FakeSheets(self)

    def close(self) -> None:
        if self in self._app._books._books:
            self._app._books._books.remove(self)
        self._app._log.append(("close", self.name, ""))

    # test helpers (not xlwings API): underscore names --------------------------------------
    def _snapshot(self) -> dict[str, dict[Cell, object]]:
        return {s.name: dict(s._values) for s in self._sheets}


FAKE_TO_REAL = {
    "FakeFont": "Font",
    "FakeRange": "Range",
    "FakeTable": "Table",
    "FakeTables": "Tables",
    "FakeFreezePanes": "FreezePanes",
    "FakeChart": "Chart",
    "FakeCharts": "Charts",
    "FakeSheet": "Sheet",
    "FakeSheets": "Sheets",
    "FakeBooks": "Books",
    "FakeApp": "App",
    "FakeBook": "Book",
}


def book_from_sheet_rows(fullname: str, sheet_rows: dict[str, Any]) -> FakeBook:
    """A fake book holding the given sheets' values (as the reader read them from a file)."""
    book = FakeBook(fullname)
    first = book._sheets[0]
    for sr in sheet_rows.values():
        sheet = book.sheets.add(sr.name, after=book._sheets[-1])
        for i, row in enumerate(sr.rows):
            for j, v in enumerate(row):
                if v is not None and v != "":
                    sheet._values[(sr.first_row + i, sr.first_col + j)] = v
        if sr.table_ref:
            sheet.tables.add(source=sheet.range(sr.table_ref), name=sr.name.replace(" ", ""))
    first.delete()
    book._app._log.clear()
    return book
