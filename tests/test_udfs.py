"""Worksheet functions, called with exactly what xlwings hands over: lists of rows with the
header first, None for blank cells, floats for numbers, datetimes for dates.

Expected figures are worked out by hand in the comments.
"""

from __future__ import annotations

import datetime as dt
import time

import pytest

from addin.excel.udfs import (
    BF_BACKFLUSH,
    BF_EXPLODE,
    BF_STDCOST,
    BF_VARIANCE,
    BF_WHEREUSED,
    UDFS,
)
from addin.workbook import ranges as lookup

# A chair (FG) = 2 seats (SA) + 4 screws (RM2, 5 % scrap); a seat = 1.5 foam (RM1) + 2 screws.
COSTS = [
    ["Item", "Description", "Type", "UoM", "Material", "Labor", "Overhead", "Backflush"],
    ["FG", "Chair", "Finished", "EA", 0.0, 5.0, 3.0, "Yes"],
    ["SA", "Seat", "Subassembly", "EA", 1.0, 2.0, 1.0, "Yes"],
    ["RM1", "Foam", "Raw", "M", 4.0, None, None, None],
    ["RM2", "Screw", "Raw", "EA", 0.1, None, None, "Yes"],
]
BOM = [
    ["Parent", "Component", "Qty Per", "Scrap %", "Effective From", "Effective To"],
    ["FG", "SA", 2.0, None, None, None],
    ["FG", "RM2", 4.0, 0.05, None, None],
    ["SA", "RM1", 1.5, None, dt.datetime(2020, 1, 1), None],
    ["SA", "RM2", 2.0, None, None, None],
]


def copy(rows: list[list[object]]) -> list[list[object]]:
    """xlwings hands over new lists on every call."""
    return [list(r) for r in rows]


@pytest.fixture(autouse=True)
def fresh_cache() -> None:
    lookup.clear_cache()


def test_stdcost_rolls_up_each_element() -> None:
    # SA material = 1 + 1.5 x 4 + 2 x 0.1 = 7.20; FG material = 2 x 7.20 + 4 x 1.05 x 0.1 = 14.82
    assert BF_STDCOST(COSTS, BOM, "FG", "Material") == pytest.approx(14.82)
    # labour: SA 2, FG 5 + 2 x 2 = 9; overhead: SA 1, FG 3 + 2 x 1 = 5; conversion 14
    assert BF_STDCOST(COSTS, BOM, "FG", "Labor") == pytest.approx(9.0)
    assert BF_STDCOST(COSTS, BOM, "FG", "overhead") == pytest.approx(5.0)
    assert BF_STDCOST(COSTS, BOM, "FG", "Conversion") == pytest.approx(14.0)
    # total = material + conversion = 28.82; blank element (None) means the total
    assert BF_STDCOST(COSTS, BOM, "FG") == pytest.approx(28.82)
    assert BF_STDCOST(COSTS, BOM, "fg ", None) == pytest.approx(28.82)
    assert BF_STDCOST(COSTS, BOM, "RM1") == pytest.approx(4.0)


def test_headers_match_case_insensitively_and_numeric_codes_read_as_text() -> None:
    costs = [["ITEM", "material", "Conversion"], [1001.0, 2.0, 1.0], [2002.0, 0.5, None]]
    bom = [["parent", "COMPONENT", "qty per"], [1001.0, "2002", 3.0]]
    # 1001 = 2 + 3 x 0.5 material, + 1 conversion = 4.50
    assert BF_STDCOST(costs, bom, 1001.0) == pytest.approx(4.5)
    assert BF_STDCOST(costs, bom, "1001", "Material") == pytest.approx(3.5)


def test_explode_lists_every_path_with_levels_and_extended_quantities() -> None:
    assert BF_EXPLODE(BOM, "FG", 10.0) == [
        ["Level", "Component", "Quantity"],
        [1, "SA", 20.0],
        [2, "RM1", 30.0],  # 20 seats x 1.5
        [2, "RM2", 40.0],  # 20 seats x 2
        [1, "RM2", pytest.approx(42.0)],  # 10 x 4 x 1.05
    ]
    one_level = BF_EXPLODE(BOM, "FG", None, 1.0)
    assert one_level == [["Level", "Component", "Quantity"], [1, "SA", 2.0], [1, "RM2", 4.2]]


def test_backflush_flushes_to_leaves_at_material_standard() -> None:
    # 10 chairs: RM1 30 at 4.00 = 120.00; RM2 40 + 42 = 82 at 0.10 = 8.20
    out = BF_BACKFLUSH(copy(COSTS), copy(BOM), "FG", 10.0)
    assert out[0] == ["Component", "Quantity", "Standard Cost", "Amount"]
    assert out[1] == ["RM1", pytest.approx(30.0), pytest.approx(4.0), 120.0]
    assert out[2] == ["RM2", pytest.approx(82.0), pytest.approx(0.1), 8.2]


def test_backflush_stops_at_items_not_flushed() -> None:
    costs = copy(COSTS)
    costs[2][7] = "No"  # seats are consumed whole, at their rolled material 7.20
    out = BF_BACKFLUSH(costs, BOM, "FG", 10.0)
    assert out[1:] == [
        ["SA", pytest.approx(20.0), pytest.approx(7.2), 144.0],
        ["RM2", pytest.approx(42.0), pytest.approx(0.1), 4.2],
    ]


def test_where_used_walks_up_all_levels() -> None:
    assert BF_WHEREUSED(BOM, "RM2") == [
        ["Level", "Parent", "Quantity Per"],
        [1, "FG", pytest.approx(4.2)],
        [1, "SA", 2.0],
        [2, "FG", 4.0],  # 2 screws per seat x 2 seats per chair
    ]


def test_variance_amount_and_direction() -> None:
    assert BF_VARIANCE(105.5, 100.0) == [[5.5, "U"]]
    assert BF_VARIANCE([[90.0], [100.0]], [[100.0], [100.0]]) == [[-10.0, "F"], [0.0, ""]]
    assert BF_VARIANCE(None, 12.345) == [[-12.35, "F"]]  # Excel ROUND: half away from zero


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: BF_STDCOST(COSTS, BOM, "X12"), '#BF! unknown item "X12"'),
        (lambda: BF_STDCOST(COSTS, BOM, "FG", "Freight"), '#BF! unknown element "Freight"'),
        (lambda: BF_STDCOST([["Item", "Material"]], BOM, "FG"), "#BF! the costs range needs"),
        (lambda: BF_STDCOST(COSTS, [["Parent", "Qty Per"]], "FG"), "#BF! the BOM range has no"),
        (lambda: BF_STDCOST(COSTS, BOM[:1] + [["FG", "ZZ", 1.0]], "FG"), "#BF! BOM range, row 2"),
        (lambda: BF_EXPLODE(BOM, "RM1"), '#BF! "RM1" has no BOM lines'),
        (lambda: BF_EXPLODE(BOM, "FG", -1.0), "#BF! the quantity must be more than 0"),
        (lambda: BF_EXPLODE(BOM, "FG", 1.0, 0.5), "#BF! levels must be a whole number"),
        (lambda: BF_BACKFLUSH(COSTS, BOM, "FG", None), "#BF! the quantity is blank"),
        (lambda: BF_BACKFLUSH(COSTS, BOM, "RM1", 5.0), '#BF! "RM1" has no BOM lines'),
        (lambda: BF_WHEREUSED(BOM, "FG"), '#BF! "FG" is not used'),
        (lambda: BF_VARIANCE([[1.0], [2.0]], 1.0), "#BF! actual has 2 values"),
        (lambda: BF_VARIANCE("abc", 1.0), '#BF! actual is "abc", not a number'),
        (lambda: BF_STDCOST(None, BOM, "FG"), "#BF! the range is empty"),
    ],
)
def test_errors_are_readable_text_in_the_cell(call, message: str) -> None:
    out = call()
    assert isinstance(out, str) and out.startswith(message), out
    assert "Traceback" not in out


def test_a_cycle_is_named() -> None:
    bom = BOM + [["RM1", "FG", 1.0, None, None, None]]
    assert BF_STDCOST(COSTS, bom, "FG").startswith("#BF! BOM cycle:")
    assert BF_EXPLODE(bom, "FG").startswith("#BF! BOM cycle: FG -> SA -> RM1 -> FG")


def test_bom_lines_outside_their_effective_dates_are_left_out() -> None:
    bom = copy(BOM)
    bom[3][5] = dt.datetime(2021, 1, 1)  # the foam line ended in 2021
    assert BF_EXPLODE(bom, "SA") == [["Level", "Component", "Quantity"], [1, "RM2", 2.0]]


def test_same_ranges_are_parsed_once(monkeypatch: pytest.MonkeyPatch) -> None:
    calls = {"costs": 0, "bom": 0}
    real_costs, real_bom = lookup._parse_costs, lookup._parse_bom

    def count_costs(*args):
        calls["costs"] += 1
        return real_costs(*args)

    def count_bom(rows):
        calls["bom"] += 1
        return real_bom(rows)

    monkeypatch.setattr(lookup, "_parse_costs", count_costs)
    monkeypatch.setattr(lookup, "_parse_bom", count_bom)
    for item in ("FG", "SA", "RM1", "RM2") * 50:
        BF_STDCOST(copy(COSTS), copy(BOM), item)
    assert calls == {"costs": 1, "bom": 1}
    changed = copy(COSTS)
    changed[3][4] = 5.0  # a new price: a new parse, a new answer (2 x (1 + 7.5 + 0.2) + 0.42)
    assert BF_STDCOST(changed, BOM, "FG", "Material") == pytest.approx(17.82)
    assert calls == {"costs": 2, "bom": 1}


def test_ten_thousand_stdcost_calls_timing(capsys: pytest.CaptureFixture[str]) -> None:
    """Measured and printed, never asserted on (machines differ): see the report."""
    from addin.demo import demo_inputs

    inputs = demo_inputs()
    sc = inputs.standard_costs
    costs = [["Item", "Material", "Labor", "Overhead", "Backflush"]] + [
        [r.item, r.material, r.labor, r.overhead, "Yes" if r.backflush else "No"]
        for r in sc.itertuples()
    ]
    bom = [["Parent", "Component", "Qty Per", "Scrap %"]] + [
        [r.parent, r.component, r.qty_per, r.scrap_pct] for r in inputs.bom.itertuples()
    ]
    items = list(sc["item"])
    calls = [(copy(costs), copy(bom), items[k % len(items)]) for k in range(10_000)]
    start = time.perf_counter()
    out = [BF_STDCOST(*args) for args in calls]
    seconds = time.perf_counter() - start
    assert all(isinstance(x, float) for x in out)
    with capsys.disabled():
        print(
            f"\n10,000 BF_STDCOST calls over the demo ranges ({len(costs) - 1} items, "
            f"{len(bom) - 1} BOM lines), each with fresh lists: {seconds:.3f} s"
        )


def test_udfs_keep_their_signatures_for_excel() -> None:
    import inspect

    names = {f.__name__: list(inspect.signature(f).parameters) for f in UDFS}
    assert names == {
        "BF_STDCOST": ["costs", "bom", "item", "element"],
        "BF_EXPLODE": ["bom", "item", "quantity", "levels"],
        "BF_BACKFLUSH": ["costs", "bom", "item", "quantity"],
        "BF_WHEREUSED": ["bom", "component"],
        "BF_VARIANCE": ["actual", "standard"],
    }


def test_worksheet_functions_read_cells_as_the_month_end_does() -> None:
    """One reading of a cell for both faces: an "x" in Backflush is Yes (the month-end's
    reading), "$5", "1,234.50" and "(12.00)" are numbers, "1,5" is not 15."""
    from addin.workbook import ranges as lookup

    costs = lookup.parse_costs(
        [
            ["Item", "Type", "Material", "Conversion", "Backflush"],
            ["A", "Raw", "$5", "(12.00)", "x"],
            ["B", "Raw", "1,234.50", 0, "No"],
        ]
    )
    f = costs.frame.set_index("item")
    assert f.loc["A", "material"] == 5.0 and f.loc["A", "conversion"] == -12.0
    assert f.loc["B", "material"] == 1234.5
    assert f.loc["A", "backflush"] and not f.loc["B", "backflush"]
    with pytest.raises(lookup.LookupProblem, match="not a number"):
        lookup.parse_costs([["Item", "Material", "Conversion"], ["C", "1,5", 0]])
    with pytest.raises(lookup.LookupProblem, match="type Yes or No"):
        lookup.parse_costs([["Item", "Material", "Conversion", "Backflush"], ["D", 1, 0, "maybe"]])
