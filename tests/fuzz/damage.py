"""Damaged workbooks, seeded: mutations of a valid month at the zip/XML level and value level.

The base is written with xlsxwriter (shared strings, every input sheet at A1, no extra
columns, a "Notes" sheet the contract does not use), so every cell of an input sheet is a
contract cell: damage there must be refused with a located error (exit 1).
"""

from __future__ import annotations

import datetime as dt
import io
import random
import re
import struct
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import xlsxwriter

from tests.fuzz.months import Month

# every error value Excel can store in a cell, the newer ones included
EXCEL_ERRORS = (
    "#NULL!", "#DIV/0!", "#VALUE!", "#REF!", "#NAME?", "#NUM!", "#N/A", "#GETTING_DATA",
    "#SPILL!", "#CALC!", "#FIELD!", "#BLOCKED!", "#CONNECT!", "#BUSY!", "#UNKNOWN!",
    "#EXTERNAL!", "#PYTHON!",
)  # fmt: skip


@dataclass
class Damage:
    """What was done, and whether the tool must refuse the file (exit 1) or may read it."""

    name: str
    detail: str
    must_refuse: bool


# --- the base workbook ------------------------------------------------------------------


def write_plain(month: Month, path: Path, tables: bool) -> Path:
    """Every sheet at A1 (tables exactly over the rows when ``tables``), plus a Notes sheet."""
    wb = xlsxwriter.Workbook(str(path))
    date = wb.add_format({"num_format": "yyyy-mm-dd"})
    for n, (name, rows) in enumerate(month.sheets.items()):
        ws = wb.add_worksheet(name)
        for i, row in enumerate(rows):
            for j, v in enumerate(row):
                if v is None or v == "":
                    continue
                if isinstance(v, dt.date):
                    ws.write_datetime(i, j, dt.datetime.combine(v, dt.time()), date)
                elif isinstance(v, (int, float)) and not isinstance(v, bool):
                    ws.write_number(i, j, float(v))
                else:
                    ws.write_string(i, j, str(v))
        if tables and len(rows) > 1:
            ws.add_table(
                0, 0, len(rows) - 1, len(rows[0]) - 1,
                {"name": f"Tbl_{n}", "columns": [{"header": str(h)} for h in rows[0]],
                 "autofilter": False},
            )  # fmt: skip
    notes = wb.add_worksheet("Notes")
    notes.write_string(0, 0, "free notes, not part of the contract")
    wb.close()
    return path


# --- zip and XML helpers ------------------------------------------------------------------


def _parts(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        return {i.filename: zf.read(i) for i in zf.infolist()}


def _zip(parts: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, content in parts.items():
            zf.writestr(name, content)
    return buf.getvalue()


def _sheet_parts(parts: dict[str, bytes], month: Month) -> dict[str, str]:
    """Input sheet name -> its worksheet part (xlsxwriter numbers sheets in order)."""
    return {name: f"xl/worksheets/sheet{i + 1}.xml" for i, name in enumerate(month.sheets)}


def _pick_cell(rng: random.Random, xml: str, data_only: bool = False) -> re.Match[str] | None:
    cells = list(re.finditer(r'<c r="([A-Z]+)(\d+)"[^>]*?(?:/>|>.*?</c>)', xml))
    if data_only:
        cells = [m for m in cells if m.group(2) != "1"]
    return rng.choice(cells) if cells else None


# --- zip-level damage -----------------------------------------------------------------------


def truncate(rng: random.Random, data: bytes, month: Month) -> tuple[bytes, Damage]:
    cut = rng.randint(0, len(data) - 1)
    return data[:cut], Damage("truncated", f"first {cut} of {len(data)} bytes", True)


def flip_bytes(rng: random.Random, data: bytes, month: Month) -> tuple[bytes, Damage]:
    buf = bytearray(data)
    at = sorted(rng.randrange(len(buf)) for _ in range(rng.randint(1, 8)))
    for k in at:
        buf[k] ^= rng.randint(1, 255)
    return bytes(buf), Damage("flipped bytes", f"at {at}", False)


def compression_method(rng: random.Random, data: bytes, month: Month) -> tuple[bytes, Damage]:
    """Deflate64 (9), bzip2 (12), LZMA (14), zstd (93), AES (99), implode (6), or the
    encryption flag, on one or every entry (local header and central directory)."""
    buf = bytearray(data)
    method = rng.choice((9, 12, 14, 93, 99, 6, None))
    locals_ = [m.start() for m in re.finditer(b"PK\x03\x04", data)]
    centrals = [m.start() for m in re.finditer(b"PK\x01\x02", data)]
    every = rng.random() < 0.5
    k = rng.randrange(len(locals_))
    for i, (lo, ce) in enumerate(zip(locals_, centrals, strict=False)):
        if not every and i != k:
            continue
        if method is None:
            buf[lo + 6] |= 1
            buf[ce + 8] |= 1
        else:
            struct.pack_into("<H", buf, lo + 8, method)
            struct.pack_into("<H", buf, ce + 10, method)
    what = "encryption flag" if method is None else f"method {method}"
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        names = [i.filename for i in zf.infolist()]
    target = "every entry" if every else names[k] if k < len(names) else f"entry {k}"
    # a part the contract needs must be refused; a damaged unused part (docProps, theme) may
    # be left unread
    needed = every or not target.startswith(("docProps/", "xl/theme/", "xl/tables/"))
    return bytes(buf), Damage("zip compression", f"{what} on {target}", needed)


# --- XML-level damage (each returns changed parts) ---------------------------------------------

XmlDamage = Callable[[random.Random, dict[str, bytes], Month], Damage]


def _edit(parts: dict[str, bytes], name: str, fn: Callable[[str], str]) -> None:
    parts[name] = fn(parts[name].decode("utf-8")).encode("utf-8")


def _contract_sheet(rng: random.Random, parts: dict[str, bytes], month: Month) -> tuple[str, str]:
    sheets = _sheet_parts(parts, month)
    name = rng.choice(list(sheets))
    return name, sheets[name]


def error_cell(rng: random.Random, parts: dict[str, bytes], month: Month) -> Damage:
    name, part = _contract_sheet(rng, parts, month)
    err = rng.choice(EXCEL_ERRORS)
    xml = parts[part].decode()
    m = _pick_cell(rng, xml)
    if m is None:
        return Damage("error cell", "no cell", False)
    ref = m.group(1) + m.group(2)
    new = f'<c r="{ref}" t="e"><v>{err}</v></c>'
    parts[part] = (xml[: m.start()] + new + xml[m.end() :]).encode()
    return Damage("error cell", f"{name}!{ref} = {err}", True)


def formula_no_value(rng: random.Random, parts: dict[str, bytes], month: Month) -> Damage:
    name, part = _contract_sheet(rng, parts, month)
    xml = parts[part].decode()
    m = _pick_cell(rng, xml, data_only=True)
    if m is None:
        return Damage("formula without value", "no cell", False)
    ref = m.group(1) + m.group(2)
    f = rng.choice(("1+1", "SUM(A1:A2)", "NOW()", 'HYPERLINK("x")'))
    parts[part] = (xml[: m.start()] + f'<c r="{ref}"><f>{f}</f></c>' + xml[m.end() :]).encode()
    return Damage("formula without value", f"{name}!{ref} = {f}", True)


def bad_shared_string(rng: random.Random, parts: dict[str, bytes], month: Month) -> Damage:
    name, part = _contract_sheet(rng, parts, month)
    xml = parts[part].decode()
    hits = list(re.finditer(r'(<c r="([A-Z]+\d+)"[^>]*t="s"[^>]*><v>)(\d+)(</v>)', xml))
    if not hits:
        return Damage("bad shared string", "no string cell", False)
    m = rng.choice(hits)
    bad = rng.choice(("abc", "-1", "1.5", "99999999", "4294967296", "", " 0", "1e3"))
    parts[part] = (xml[: m.start(3)] + bad + xml[m.end(3) :]).encode()
    return Damage("bad shared string", f"{name}!{m.group(2)} index {bad!r}", True)


def huge_counts(rng: random.Random, parts: dict[str, bytes], month: Month) -> Damage:
    n = rng.choice(("2147483648", "4294967295", "99999999999", "-5"))
    _edit(
        parts,
        "xl/sharedStrings.xml",
        lambda x: re.sub(r'(count|uniqueCount)="\d+"', rf'\1="{n}"', x),
    )
    return Damage("shared strings count", n, False)


def huge_row(rng: random.Random, parts: dict[str, bytes], month: Month) -> Damage:
    name, part = _contract_sheet(rng, parts, month)
    xml = parts[part].decode()
    rows = re.findall(r'<row r="(\d+)"', xml)
    if not rows:
        return Damage("huge row number", "no rows", False)
    old = rng.choice(rows)
    new = rng.choice(("1048577", "99999999999", "0", "4294967297", "1048576"))
    pat = re.compile(rf'(<row r="){old}"|(<c r="[A-Z]+){old}"')
    xml = pat.sub(lambda m: f'{m.group(1) or m.group(2)}{new}"', xml)
    parts[part] = xml.encode()
    # past Excel's last row (1,048,576): reading the row where it is, or refusing, are both fine;
    # past 2^32 or row 0 the file is damaged beyond doubt
    return Damage(
        "huge row number", f"{name} row {old} -> {new}", new in ("99999999999", "0", "4294967297")
    )


def stray_far_cell(rng: random.Random, parts: dict[str, bytes], month: Month) -> Damage:
    """One cell at XFD1048576 (or beyond the sheet) on the unused Notes sheet."""
    part = f"xl/worksheets/sheet{len(month.sheets) + 1}.xml"
    ref = rng.choice(("XFD1048576", "XFE1", "A1048577", "ZZZZ99999999"))
    row = re.sub(r"\D", "", ref)

    def add(x: str) -> str:
        x = x.replace("</sheetData>", f'<row r="{row}"><c r="{ref}"><v>1</v></c></row></sheetData>')
        return re.sub(r'<dimension ref="[^"]*"', f'<dimension ref="A1:{ref}"', x)

    _edit(parts, part, add)
    # only the input sheets are read (issue 10: bound the work by what the contract needs), so
    # even a reference beyond Excel's grid on Notes may go unseen; it must never abort the run
    return Damage("stray far cell", f"Notes!{ref}", False)


def huge_dimension(rng: random.Random, parts: dict[str, bytes], month: Month) -> Damage:
    name, part = _contract_sheet(rng, parts, month)
    ref = rng.choice(("A1:XFD1048576", "A1:ZZZZZ99999999999", "A1:A0", "B7"))
    _edit(parts, part, lambda x: re.sub(r'<dimension ref="[^"]*"', f'<dimension ref="{ref}"', x))
    return Damage("dimension", f"{name} {ref}", False)


def table_smaller(rng: random.Random, parts: dict[str, bytes], month: Month) -> Damage:
    tables = [p for p in parts if p.startswith("xl/tables/")]
    if not tables:
        return Damage("table smaller", "no tables", False)
    part = rng.choice(tables)
    xml = parts[part].decode()
    m = re.search(r'ref="([A-Z]+)(\d+):([A-Z]+)(\d+)"', xml)
    assert m
    last = int(m.group(4))
    if last <= 2:
        return Damage("table smaller", "one row", False)
    new_last = rng.randint(2, last - 1)
    xml = xml.replace(m.group(0), f'ref="{m.group(1)}{m.group(2)}:{m.group(3)}{new_last}"')
    parts[part] = xml.encode()
    # rows below the table are still filled: they must be read or refused, never dropped
    return Damage("table smaller", f"{part} rows {last} -> {new_last}", False)


def missing_part(rng: random.Random, parts: dict[str, bytes], month: Month) -> Damage:
    name = rng.choice(list(parts))
    del parts[name]
    optional = name.startswith(("docProps/", "xl/theme/", "xl/tables/", "xl/worksheets/_rels/"))
    optional = optional or name == "[Content_Types].xml"  # the parts are still all there
    notes = f"xl/worksheets/sheet{len(month.sheets) + 1}.xml"  # the sheet the run never reads
    optional = optional or name == notes
    return Damage("missing part", name, not optional and name != "xl/styles.xml")


def content_types(rng: random.Random, parts: dict[str, bytes], month: Month) -> Damage:
    how = rng.choice(("sheet as chart", "no overrides", "garbage", "workbook as macro"))

    def change(x: str) -> str:
        if how == "sheet as chart":
            return x.replace("worksheet+xml", "drawingml.chart+xml", 1)
        if how == "no overrides":
            return re.sub(r"<Override [^>]*/>", "", x)
        if how == "workbook as macro":
            return x.replace("sheet.main+xml", "sheet.macroEnabled.main+xml")
        return x[: len(x) // 2]

    _edit(parts, "[Content_Types].xml", change)
    return Damage("content types", how, False)


def broken_xml(rng: random.Random, parts: dict[str, bytes], month: Month) -> Damage:
    name = rng.choice([p for p in parts if p.endswith(".xml") or p.endswith(".rels")])
    data = parts[name]
    how = rng.choice(("cut", "entity", "nul"))
    if how == "cut":
        parts[name] = data[: rng.randint(0, len(data))]
    elif how == "entity":
        bomb = (
            b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaaaaaaaa">'
            b'<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;"><!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;">]>'
        )
        parts[name] = bomb + re.sub(rb"^<\?xml[^>]*\?>", b"", data).replace(b"</", b"&c;</", 1)
    else:
        k = rng.randrange(max(1, len(data)))
        parts[name] = data[:k] + b"\x00" + data[k:]
    return Damage("broken xml", f"{name}: {how}", False)


def odd_cell_types(rng: random.Random, parts: dict[str, bytes], month: Month) -> Damage:
    name, part = _contract_sheet(rng, parts, month)
    xml = parts[part].decode()
    m = _pick_cell(rng, xml, data_only=True)
    if m is None:
        return Damage("odd cell type", "no cell", False)
    ref = m.group(1) + m.group(2)
    new = rng.choice(
        (
            f'<c r="{ref}" t="b"><v>2</v></c>',
            f'<c r="{ref}" t="d"><v>not-a-date</v></c>',
            f'<c r="{ref}" t="n"><v>1e400</v></c>',
            f'<c r="{ref}" t="n"><v>NaN</v></c>',
            f'<c r="{ref}" t="n"><v>12abc</v></c>',
            f'<c r="{ref}" t="zz"><v>1</v></c>',
            f'<c r="{ref}" s="9999"><v>45000</v></c>',
        )
    )
    parts[part] = (xml[: m.start()] + new + xml[m.end() :]).encode()
    return Damage("odd cell type", f"{name}!{ref}: {new}", False)


XML_DAMAGES: tuple[XmlDamage, ...] = (
    error_cell, error_cell, formula_no_value, bad_shared_string, huge_counts, huge_row,
    stray_far_cell, huge_dimension, table_smaller, missing_part, content_types, broken_xml,
    odd_cell_types,
)  # fmt: skip
ZIP_DAMAGES = (truncate, flip_bytes, compression_method)


def damage_file(rng: random.Random, month: Month, path: Path) -> Damage:
    """Write ``month`` as a plain or table workbook at ``path``, then damage it in place."""
    write_plain(month, path, tables=rng.random() < 0.5)
    data = path.read_bytes()
    if rng.random() < 0.3:
        fn = rng.choice(ZIP_DAMAGES)
        data, what = fn(rng, data, month)
    else:
        parts = _parts(data)
        what = rng.choice(XML_DAMAGES)(rng, parts, month)
        data = _zip(parts)
    path.write_bytes(data)
    return what


# --- value-level damage (on the month before writing; each must be refused) ------------------


def _rows(month: Month, sheet: str) -> list[list[object]]:
    return month.sheets.get(sheet, [[]])[1:]


def _col(month: Month, sheet: str, header: str) -> int:
    return month.sheets[sheet][0].index(header)


def value_damage(rng: random.Random, month: Month) -> Damage:
    """Change the month so that it is invalid in a way that must be reported (exit 1)."""
    for _ in range(20):
        kind = rng.choice(VALUE_DAMAGES)
        detail = kind(rng, month)
        if detail:
            return Damage(f"value: {kind.__name__}", detail, True)
    return Damage("value: none applied", "", False)


def _some_row(rng: random.Random, month: Month, sheets: tuple[str, ...]) -> tuple[str, list] | None:
    have = [s for s in sheets if len(month.sheets.get(s, [])) > 1]
    if not have:
        return None
    s = rng.choice(have)
    return s, rng.choice(_rows(month, s))


NUMBER_COLS = {
    "Purchases": ("Quantity", "Unit Price"),
    "Completions": ("Quantity", "Scrap Quantity"),
    "Sales": ("Quantity",),
    "Conversion Costs": ("Amount",),
    "Counts": ("Counted Quantity",),
    "Opening Balances": ("Quantity",),
    "BOM": ("Qty Per", "Scrap %"),
    "Standard Costs": ("Material",),
}


def text_in_number(rng: random.Random, month: Month) -> str:
    hit = _some_row(rng, month, tuple(NUMBER_COLS))
    if not hit:
        return ""
    s, row = hit
    col = rng.choice(NUMBER_COLS[s])
    text = rng.choice(("abc", "12kg", "N/A", "1.2.3", "--5", "١٢x"))
    row[_col(month, s, col)] = text
    return f"{s} {col} = {text!r}"


def negative_quantity(rng: random.Random, month: Month) -> str:
    hit = _some_row(rng, month, ("Purchases", "Completions", "Sales", "Counts", "Opening Balances"))
    if not hit:
        return ""
    s, row = hit
    col = "Counted Quantity" if s == "Counts" else "Quantity"
    row[_col(month, s, col)] = -abs(float(row[_col(month, s, col)] or 1)) or -1.0
    return f"{s} {col} negative"


def date_outside(rng: random.Random, month: Month) -> str:
    hit = _some_row(rng, month, ("Purchases", "Completions", "Sales", "Conversion Costs"))
    if not hit:
        return ""
    s, row = hit
    delta = dt.timedelta(days=rng.choice((1, 40, 400)))
    day = month.start - delta if rng.random() < 0.5 else month.end + delta
    row[_col(month, s, "Date")] = day
    return f"{s} Date {day}"


def unknown_item(rng: random.Random, month: Month) -> str:
    sheets = ("Purchases", "Completions", "Sales", "Counts", "Opening Balances", "BOM")
    hit = _some_row(rng, month, sheets)
    if not hit:
        return ""
    s, row = hit
    col = rng.choice(("Parent", "Component")) if s == "BOM" else "Item"
    row[_col(month, s, col)] = "NO-SUCH-ITEM-Ø"
    return f"{s} {col} unknown"


def bom_cycle(rng: random.Random, month: Month) -> str:
    lines = _rows(month, "BOM")
    made = [str(r[0]).strip() for r in lines]
    if not lines:
        return ""
    line = rng.choice(lines)
    parent, comp = str(line[0]).strip(), str(line[1]).strip()
    if comp.casefold() not in {m.casefold() for m in made}:
        # make the component a parent of the parent: comp is raw, give it a line
        month.sheets["Standard Costs"] = [
            [r[0], r[1], "Subassembly" if str(r[0]).casefold() == comp.casefold() else r[2], *r[3:]]
            if i
            else r
            for i, r in enumerate(month.sheets["Standard Costs"])
        ]
    month.sheets["BOM"].append([comp, parent, 1.0, 0.0, None, None])
    return f"cycle {parent} <-> {comp}"


def broken_setting(rng: random.Random, month: Month) -> str:
    rows = month.sheets["Settings"]
    how = rng.choice(("trigger", "end before start", "tolerance 2", "misspelt", "missing end",
                      "conversion variance", "date text"))  # fmt: skip
    for r in rows[1:]:
        if how == "trigger" and r[0] == "Trigger":
            r[1] = "weekly"
        elif how == "end before start" and r[0] == "Period End":
            r[1] = month.start - dt.timedelta(days=1)
        elif how == "misspelt" and r[0] == "Period Start":
            r[0] = "Perid Start"
        elif how == "date text" and r[0] == "Period Start":
            r[1] = "31/13/2026"
    if how == "tolerance 2":
        rows.append(["Count Tolerance %", 2])
    elif how == "conversion variance":
        rows.append(["Conversion Variance", "Spread"])
    elif how == "missing end":
        month.sheets["Settings"] = [r for r in rows if r[0] != "Period End"]
    return f"Settings {how}"


def duplicate_item(rng: random.Random, month: Month) -> str:
    std = month.sheets["Standard Costs"]
    row = list(rng.choice(std[1:]))
    std.append(row)
    return f"Standard Costs {row[0]} twice"


def bad_type(rng: random.Random, month: Month) -> str:
    std = month.sheets["Standard Costs"]
    row = rng.choice(std[1:])
    row[2] = rng.choice(("Finishd", "Raw material", "?", 3))
    return f"Standard Costs Type {row[2]!r}"


VALUE_DAMAGES = (
    text_in_number, negative_quantity, date_outside, unknown_item, bom_cycle, broken_setting,
    duplicate_item, bad_type,
)  # fmt: skip
