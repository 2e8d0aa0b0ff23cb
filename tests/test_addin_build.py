"""The Excel add-in build: ribbon, VBA callback, config sheet, MS-OVBA compression.

The VBA is read back with oletools (and LibreOffice's importer when ``soffice`` is on the
PATH), both of which decompress modules with their own code, not ours.
"""

from __future__ import annotations

import io
import random
import re
import shutil
import subprocess
import sys
import types
import xml.etree.ElementTree as ET
import zipfile
from pathlib import Path

import olefile
import pytest
import xlwings
from oletools.olevba import VBA_Parser, decompress_stream

from addin.excel import build_addin, ribbon, udfs, vba, vba_source
from addin.excel.cfb import CompoundFile

REPO = Path(__file__).resolve().parents[1]
COMMITTED_XLAM = REPO / "workbook_templates" / "backflush.xlam"
STOCK_XLAM = Path(xlwings.__file__).parent / "quickstart_addin_ribbon.xlam"
XLWINGS_BAS = Path(xlwings.__file__).parent / "xlwings.bas"

CUSTOMUI_PART = "customUI/customUI.xml"
MAIN_NS = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"

EXPECTED_LABELS = {
    "Validate Inputs": "validate_inputs",
    "Roll Up Standards": "roll_up_standards",
    "Run Month-End": "run_month_end",
    "Start Next Month": "start_next_month",
    "Clear Results": "clear_results",
    "Export Journal": "export_journal",
    "New Template": "new_template",
}


# --- fixtures ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_addin.build(tmp_path_factory.mktemp("addin"))


def members(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as zf:
        return {name: zf.read(name) for name in zf.namelist()}


def vba_modules(path: Path) -> dict[str, str]:
    """Module name -> source, as oletools decompresses it."""
    parser = VBA_Parser(str(path))
    try:
        return {
            Path(vba_filename).stem: code for _, _, vba_filename, code in parser.extract_macros()
        }
    finally:
        parser.close()


def customui(path: Path) -> ET.Element:
    return ET.fromstring(members(path)[CUSTOMUI_PART])


def ns_of(element: ET.Element) -> str:
    return element.tag[: element.tag.index("}") + 1]


# --- the ribbon ----------------------------------------------------------------------


def test_ribbon_keeps_the_template_namespace(built: Path) -> None:
    stock_ns = ns_of(customui(STOCK_XLAM))
    assert ns_of(customui(built)) == stock_ns == "{" + ribbon.CUSTOMUI_NAMESPACE + "}"


def test_ribbon_has_backflush_tab_with_seven_buttons(built: Path) -> None:
    root = customui(built)
    ns = ns_of(root)
    tabs = root.findall(f"{ns}ribbon/{ns}tabs/{ns}tab")
    assert [tab.get("label") for tab in tabs] == ["Backflush"]
    buttons = tabs[0].findall(f"{ns}group/{ns}button")
    assert sorted(b.get("label") for b in buttons) == sorted(EXPECTED_LABELS)
    by_label = {b.label: b for b in ribbon.BUTTONS}
    for element in buttons:
        button = by_label[element.get("label")]
        assert element.get("id") == button.control_id
        assert button.macro == EXPECTED_LABELS[button.label]
        assert element.get("imageMso") == button.image_mso
        assert element.get("screentip") == button.screentip
        assert element.get("onAction") == ribbon.ON_ACTION
    sizes = {b.get("label"): b.get("size") for b in buttons}
    assert sizes["Run Month-End"] == "large"
    assert {size for label, size in sizes.items() if label != "Run Month-End"} == {"normal"}


def test_every_onaction_is_a_sub_in_the_addin_vba(built: Path) -> None:
    modules = vba_modules(built)
    root = customui(built)
    actions = {el.get("onAction") for el in root.iter() if el.get("onAction")}
    assert actions
    for action in actions:
        module, _, proc = action.rpartition(".")
        sources = [modules[module]] if module else list(modules.values())
        pattern = (
            rf"^\s*(Public\s+)?Sub\s+{re.escape(proc)}\s*\(\s*control\s+As\s+IRibbonControl\s*\)"
        )
        assert any(re.search(pattern, src, re.M | re.I) for src in sources), action


def test_vba_callback_passes_control_id_to_on_button(built: Path) -> None:
    source = vba_modules(built)[ribbon.VBA_MODULE]
    call = 'import addin.excel.ribbon as r; r.on_button(\'" & control.Id & "\', " & blank & ")'
    assert call in source
    assert "RunMain" not in source


def test_vba_callback_without_a_workbook(built: Path) -> None:
    """No workbook open: New Template opens a blank one for xlwings, every other button says
    to open the input workbook; each run shows "Starting Python..." first."""
    source = vba_modules(built)[ribbon.VBA_MODULE].replace("\r\n", "\n")
    callback = source[source.index(f"Sub {ribbon.VBA_CALLBACK}") : source.index("End Sub")]
    assert 'Case "bfNewTemplate"\n            Workbooks.Add\n            blank = "True"' in callback
    assert 'Case Else\n            MsgBox "Open your input workbook first' in callback
    assert callback.index('"Backflush: Starting Python..."') < callback.index("RunPython")
    free = [b.label for b in ribbon.BUTTONS if not b.needs_workbook]
    assert free == ["New Template"]


def test_on_button_with_a_blank_workbook(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[tuple[str, dict]] = []
    fake = types.ModuleType("addin.excel.macros")
    for button in ribbon.BUTTONS:
        setattr(fake, button.macro, lambda name=button.macro, **kw: calls.append((name, kw)))
    monkeypatch.setitem(sys.modules, "addin.excel.macros", fake)
    ribbon.on_button("bfNewTemplate", True)
    assert calls == [("new_template", {"close_blank": True})]
    with pytest.raises(ValueError, match="'Run Month-End' button needs your input workbook"):
        ribbon.on_button("bfRunMonthEnd", True)


def test_button_macros_are_unique_identifiers() -> None:
    macros = [b.macro for b in ribbon.BUTTONS]
    assert all(m.isidentifier() for m in macros)
    assert len(set(macros)) == len(macros) == 7
    ids = [b.control_id for b in ribbon.BUTTONS]
    assert len(set(ids)) == len(ids)


def test_on_button_calls_the_macro_of_that_name(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[str] = []
    fake = types.ModuleType("addin.excel.macros")
    for button in ribbon.BUTTONS:
        setattr(fake, button.macro, lambda name=button.macro: calls.append(name))
    monkeypatch.setitem(sys.modules, "addin.excel.macros", fake)
    for button in ribbon.BUTTONS:
        ribbon.on_button(button.control_id)
    assert calls == [b.macro for b in ribbon.BUTTONS]


def test_on_button_names_a_missing_macro(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "addin.excel.macros", types.ModuleType("fake"))
    with pytest.raises(AttributeError, match=r"'Run Month-End' button needs .*run_month_end\(\)"):
        ribbon.on_button("bfRunMonthEnd")


def test_on_button_rejects_unknown_id(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "addin.excel.macros", types.ModuleType("fake"))
    with pytest.raises(ValueError, match=r"Unknown Backflush ribbon button 'nope'.*bfRunMonthEnd"):
        ribbon.on_button("nope")


# --- the VBA project -----------------------------------------------------------------


def vba_project(path: Path) -> bytes:
    return members(path)["xl/vbaProject.bin"]


def ole_streams(data: bytes) -> dict[str, bytes]:
    ole = olefile.OleFileIO(io.BytesIO(data))
    try:
        return {"/".join(p): ole.openstream(p).read() for p in ole.listdir()}
    finally:
        ole.close()


def test_project_changes_are_the_names_and_two_modules(built: Path) -> None:
    """Renamed project and ribbon module, two modules rewritten; everything else as shipped."""
    stock = ole_streams(vba_project(STOCK_XLAM))
    new = ole_streams(vba_project(built))
    renamed = {"VBA/RibbonMyAddin": f"VBA/{ribbon.VBA_MODULE}"}
    assert {renamed.get(k, k) for k in stock} == set(new)
    changed = {name for name in stock if stock[name] != new[renamed.get(name, name)]}
    assert changed == {"VBA/dir", "PROJECT", "PROJECTwm", "VBA/RibbonMyAddin", "VBA/xlwings"}
    project = new["PROJECT"].decode("cp1252")
    assert f"Module={ribbon.VBA_MODULE}\r\n" in project and 'Name="Backflush"' in project
    assert "myaddin" not in project.lower()
    # Both rewritten modules hold source from byte 0 (oletools' own decompressor), no cache.
    for module in (ribbon.VBA_MODULE, "xlwings"):
        text = bytes(decompress_stream(bytearray(new[f"VBA/{module}"]))).decode("cp1252")
        assert text.startswith(f'Attribute VB_Name = "{module}"')
    stock_xlwings = vba_modules(STOCK_XLAM)["xlwings"]
    assert vba_modules(built)["xlwings"] == stock_xlwings.replace(
        'PROJECT_NAME As String = "myaddin"', 'PROJECT_NAME As String = "backflush"'
    )


def olevba_analysis(path: Path) -> str:
    run = subprocess.run(
        [sys.executable, "-m", "oletools.olevba", "-a", str(path)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    return run.stdout + run.stderr


def suspicious_keywords(report: str) -> set[str]:
    found = re.findall(r"^\|Suspicious\|(.{20})\|", report, re.M)
    return {k.strip().lower() for k in found}


def test_olevba_reports_no_vba_stomping(built: Path, tmp_path: Path) -> None:
    """The old build (new source after the template's compiled code) was flagged; ours not."""
    ours = olevba_analysis(built)
    assert "Function RunPython" not in ours  # -a: analysis only
    assert "VBA Stomping" not in ours
    # Every other finding is one xlwings' stock template has too (its own VBA's doing).
    assert suspicious_keywords(ours) == suspicious_keywords(olevba_analysis(STOCK_XLAM))
    parts = members(built)
    parts["xl/vbaProject.bin"] = vba.replace_module_source(
        vba_project(STOCK_XLAM), "RibbonMyAddin", 'Attribute VB_Name = "RibbonMyAddin"\n'
    )
    stomped = tmp_path / "stomped.xlam"
    build_addin.write_xlam(list(parts.items()), stomped)
    assert "VBA Stomping" in olevba_analysis(stomped)


def test_no_myaddin_left_anywhere(built: Path) -> None:
    for name, data in members(built).items():
        assert b"myaddin" not in data.lower(), name
    for module, source in vba_modules(built).items():
        assert "myaddin" not in source.lower(), module
        assert "myaddin" not in module.lower()


def test_bf_wrappers_call_the_python_functions(built: Path) -> None:
    """One VBA Function per UDF, with xlwings' wrapper shape, calling the same-named function
    of addin.excel.udfs with the Python parameters in order (defaults -> Optional)."""
    source = vba_modules(built)[ribbon.VBA_MODULE]
    expected = {
        "BF_STDCOST": "costs, bom, item, Optional element",
        "BF_EXPLODE": "bom, item, Optional quantity, Optional levels",
        "BF_BACKFLUSH": "costs, bom, item, quantity",
        "BF_WHEREUSED": "bom, component",
        "BF_VARIANCE": "actual, standard",
    }
    found = dict(re.findall(r"^Function (BF_\w+)\((.*)\)\r?$", source, re.M))
    assert found == expected
    for name, signature in expected.items():
        args = signature.replace("Optional ", "")
        call = f'{name} = XLPy.CallUDF("addin.excel.udfs", "{name}", Array({args}), ActiveWorkbook'
        assert call in source
        assert callable(getattr(udfs, name))


def test_cfb_rename_refuses_to_reorder_the_tree() -> None:
    cf = CompoundFile(vba_project(STOCK_XLAM))
    with pytest.raises(Exception, match="reorder"):
        cf.rename("VBA/RibbonMyAddin", "aa")  # shorter than its siblings: another place


def test_replace_module_source_checks_its_input() -> None:
    project = vba_project(STOCK_XLAM)
    with pytest.raises(vba.VbaError, match="Attribute VB_Name"):
        vba.replace_module_source(project, "RibbonMyAddin", "Sub X()\nEnd Sub\n")
    with pytest.raises(vba.VbaError, match="modules: .*RibbonMyAddin"):
        vba.replace_module_source(project, "NoSuchModule", 'Attribute VB_Name = "NoSuchModule"')


def test_compound_file_rewrite_keeps_every_stream() -> None:
    project = vba_project(STOCK_XLAM)
    assert ole_streams(CompoundFile(project).write()) == ole_streams(project)


# --- MS-OVBA compression -------------------------------------------------------------


def _words(rng: random.Random, n: int) -> bytes:
    words = ["Dim", "As", "String", "End", "Sub", "If", "Then", "    ", "\r\n", "x1", '"abc"']
    text = ""
    while len(text) < n:
        text += rng.choice(words) + " "
    return text[:n].encode()


def _compression_inputs() -> dict[str, bytes]:
    rng = random.Random(20261125)
    cases = {
        "empty": b"",
        "one byte": b"A",
        "three bytes": b"abc",
        "xlwings.bas": XLWINGS_BAS.read_bytes(),
        "ribbon module": vba_source.ribbon_module_source(udfs.UDFS).encode(),
        "long run": b"a" * 10_000,
        "random bytes 4096": bytes(rng.randrange(256) for _ in range(4096)),
        "random bytes 8192": bytes(rng.randrange(256) for _ in range(8192)),
        "random text 3000": bytes(rng.randrange(32, 127) for _ in range(3000)),
    }
    for n in (4095, 4096, 4097, 8191, 8192, 8193, 12_289):
        cases[f"words {n}"] = _words(rng, n)
    return cases


COMPRESSION_INPUTS = _compression_inputs()


@pytest.mark.parametrize("name", sorted(COMPRESSION_INPUTS))
def test_compress_round_trips_through_oletools(name: str) -> None:
    data = COMPRESSION_INPUTS[name]
    packed = vba.compress(data)
    assert bytes(decompress_stream(bytearray(packed))) == data
    assert vba.decompress(packed) == data


def test_compress_shrinks_vba_source() -> None:
    source = XLWINGS_BAS.read_bytes()
    assert len(vba.compress(source)) < len(source) / 2


def test_incompressible_final_chunk_is_stored_raw_and_padded() -> None:
    rng = random.Random(7)
    data = bytes(rng.randrange(32, 127) for _ in range(4000))
    packed = vba.compress(data)
    assert packed[1:3] == b"\xff\x3f"  # raw chunk header
    assert bytes(decompress_stream(bytearray(packed))) == data + b"\0" * 96


def test_decompress_agrees_with_oletools_on_the_stock_project() -> None:
    cf, info = vba.read_project(vba_project(STOCK_XLAM))
    streams = [cf.read("VBA/dir")]
    streams += [cf.read(f"VBA/{m.stream_name}")[m.offset :] for m in info.modules]
    for stream in streams:
        assert vba.decompress(stream) == bytes(decompress_stream(bytearray(stream)))


# --- the config sheet ----------------------------------------------------------------


def test_config_sheet_is_active_and_sets_udf_modules_only(built: Path) -> None:
    parts = members(built)
    xlwings_module = vba_modules(built)["xlwings"]
    project_name = re.search(
        r'Public Const PROJECT_NAME As String = "(\w+)"', xlwings_module
    ).group(1)
    sheet_name = f"{project_name}.conf"  # what the VBA's GetConfig looks up
    workbook = ET.fromstring(parts["xl/workbook.xml"])
    assert [s.get("name") for s in workbook.iter(f"{MAIN_NS}sheet")] == [sheet_name]

    strings = [
        si.findtext(f"{MAIN_NS}t")
        for si in ET.fromstring(parts["xl/sharedStrings.xml"]).iter(f"{MAIN_NS}si")
    ]
    sheet = ET.fromstring(parts[build_addin.sheet_path(parts, sheet_name)])
    cells = {c.get("r"): strings[int(c.findtext(f"{MAIN_NS}v"))] for c in sheet.iter(f"{MAIN_NS}c")}
    assert cells["A1"] == "UDF Modules"
    assert cells["B1"] == "addin.excel.udfs"
    assert "A2" not in cells  # xlwings stops reading keys at the first empty A cell
    assert all(not ref.startswith(("A", "B")) for ref in cells if ref not in ("A1", "B1"))


# --- reproducibility -----------------------------------------------------------------


def test_build_is_deterministic(built: Path, tmp_path: Path) -> None:
    again = build_addin.build(tmp_path)
    assert again.read_bytes() == built.read_bytes()
    with zipfile.ZipFile(again) as zf:
        assert {info.date_time for info in zf.infolist()} == {build_addin.ZIP_DATE}


def test_committed_addin_is_up_to_date(built: Path) -> None:
    assert COMMITTED_XLAM.exists(), "run: python -m addin.excel.build_addin"
    committed_vba = vba_modules(COMMITTED_XLAM)["xlwings"]
    assert f'XLWINGS_VERSION As String = "{xlwings.__version__}"' in committed_vba, (
        f"the committed add-in was built from another xlwings than {xlwings.__version__}: "
        "install the xlwings version it names, or rebuild and commit the add-in"
    )
    fresh, committed = members(built), members(COMMITTED_XLAM)
    assert list(committed) == list(fresh)
    stale = [name for name in fresh if fresh[name] != committed[name]]
    assert not stale, f"{stale} out of date; run: python -m addin.excel.build_addin"


def test_command_line_writes_the_addin(tmp_path: Path) -> None:
    assert build_addin.main([str(tmp_path / "out")]) == 0
    assert (tmp_path / "out" / "backflush.xlam").is_file()


# --- LibreOffice: a second, independent VBA reader -----------------------------------


def test_libreoffice_imports_the_vba_and_config_sheet(built: Path, tmp_path: Path) -> None:
    soffice = shutil.which("soffice")
    if soffice is None:
        pytest.skip(
            "LibreOffice (soffice) is not installed: apt-get install libreoffice-calc-nogui"
        )
    # LibreOffice does not open .xlam as a document; the same parts as an .xlsm, it does.
    xlsm = tmp_path / "backflush.xlsm"
    with zipfile.ZipFile(built) as src, zipfile.ZipFile(xlsm, "w", zipfile.ZIP_DEFLATED) as dst:
        for name in src.namelist():
            data = src.read(name)
            if name == "[Content_Types].xml":
                data = data.replace(
                    b"application/vnd.ms-excel.addin.macroEnabled.main+xml",
                    b"application/vnd.ms-excel.sheet.macroEnabled.main+xml",
                )
            dst.writestr(name, data)
    subprocess.run(
        [
            soffice,
            "--headless",
            "--norestore",
            f"-env:UserInstallation={(tmp_path / 'profile').as_uri()}",
            "--convert-to",
            "ods",
            "--outdir",
            str(tmp_path),
            str(xlsm),
        ],
        check=True,
        capture_output=True,
        timeout=180,
    )
    ods = members(tmp_path / "backflush.ods")
    basic = {name: data.decode() for name, data in ods.items() if name.startswith("Basic/")}
    module = next(v for k, v in basic.items() if k.endswith(f"/{ribbon.VBA_MODULE}.xml"))
    assert f"Sub {ribbon.VBA_CALLBACK}(control As IRibbonControl)" in module
    assert "addin.excel.ribbon as r; r.on_button(" in module
    xlwings_module = next(v for k, v in basic.items() if k.endswith("/xlwings.xml"))
    assert "Function RunPython(PythonCommand As String)" in xlwings_module
    content = ods["content.xml"].decode()
    assert 'table:name="backflush.conf"' in content
    assert "Function BF_STDCOST(costs, bom, item, Optional element)" in module
    assert "addin.excel.udfs" in content


def test_name_streams_rewritten_unchanged_reproduce_the_stock_bytes() -> None:
    """With no rename, the PROJECTwm writer and the dir record round trip give xlwings' bytes."""
    cf, info = vba.read_project(vba_project(STOCK_XLAM))
    assert vba._projectwm([m.name for m in info.modules]) == cf.read("PROJECTwm")
    stock_dir = bytes(decompress_stream(bytearray(cf.read("VBA/dir"))))
    assert vba._dir_bytes(vba._dir_records(stock_dir)) == stock_dir
