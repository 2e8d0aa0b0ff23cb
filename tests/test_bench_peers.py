"""The benchmark's explosion peers agree with hand-worked numbers and with each other."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from addin.costing.model import BOM_COLUMNS, MonthEndInputs
from benchmarks import peers
from benchmarks.plant import generate_plant, write_workbook

RTOL = 1e-9
METHODS = list(peers.METHODS.values())


def bom_frame(lines: list[tuple[str, str, float, float]]) -> pd.DataFrame:
    df = pd.DataFrame(lines, columns=["parent", "component", "qty_per", "scrap_pct"])
    df["effective_from"] = pd.NaT
    df["effective_to"] = pd.NaT
    df["source_row"] = np.arange(2, 2 + len(df))
    df = df.assign(base_quantity=1.0, unit="", conversion_factor=1.0, per="Unit")
    df["line_type"] = "Component"
    df["cost_share"] = np.nan
    return df[BOM_COLUMNS]


def costs(items: dict[str, bool]) -> pd.DataFrame:
    """item -> backflush flag (only the columns the peers look at)."""
    return pd.DataFrame({"item": list(items), "backflush": list(items.values())})


def demand(rows: list[tuple[str, float]]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["item", "quantity"])


def as_dict(result: pd.DataFrame) -> dict[str, float]:
    assert list(result.columns) == ["component", "quantity"]
    return dict(zip(result["component"], result["quantity"], strict=True))


def assert_close(got: dict[str, float], want: dict[str, float]) -> None:
    assert set(got) == set(want)
    for k, v in want.items():
        assert got[k] == pytest.approx(v, rel=RTOL), k


FG_SA_PH = bom_frame(
    [
        ("FG", "SA", 2.0, 0.0),
        ("FG", "PH", 1.0, 0.0),
        ("SA", "R1", 3.0, 0.10),
        ("PH", "R2", 4.0, 0.0),
    ]
)
ALL_FLUSHED = costs({"FG": True, "SA": True, "PH": True, "R1": True, "R2": True})


@pytest.mark.parametrize("method", METHODS)
def test_two_levels_with_scrap_and_phantom(method):
    # 5 FG -> 10 SA -> 10 * 3 * 1.1 = 33 R1; 5 FG -> 5 PH -> 5 * 4 = 20 R2.
    got = as_dict(method(FG_SA_PH, ALL_FLUSHED, demand([("FG", 5.0)])))
    assert_close(got, {"R1": 33.0, "R2": 20.0})


@pytest.mark.parametrize("method", METHODS)
def test_demand_rows_of_one_item_add_up_and_subassembly_demand_explodes(method):
    # FG 2 + 3 (completed + scrap rows) = 5 FG as above; plus 4 SA completed on their own:
    # R1 = 33 + 4 * 3 * 1.1 = 46.2.
    got = as_dict(method(FG_SA_PH, ALL_FLUSHED, demand([("FG", 2.0), ("SA", 4.0), ("FG", 3.0)])))
    assert_close(got, {"R1": 46.2, "R2": 20.0})


@pytest.mark.parametrize("method", METHODS)
def test_backflush_no_component_is_a_leaf(method):
    # SA is not backflushed: it is consumed as it is (10 SA) and R1 is not touched.
    flags = {"FG": True, "SA": False, "PH": True, "R1": True, "R2": True}
    got = as_dict(method(FG_SA_PH, costs(flags), demand([("FG", 5.0)])))
    assert_close(got, {"SA": 10.0, "R2": 20.0})


@pytest.mark.parametrize("method", METHODS)
def test_backflush_no_item_completed_still_explodes_its_own_bom(method):
    flags = {"FG": True, "SA": False, "PH": True, "R1": True, "R2": True}
    got = as_dict(method(FG_SA_PH, costs(flags), demand([("SA", 1.0)])))
    assert_close(got, {"R1": 3.3})


@pytest.mark.parametrize("method", METHODS)
def test_shared_component_on_several_levels_and_no_bom_item(method):
    # A diamond: FG uses SA twice over (directly and via SB) and R directly.
    # FG: 1 SB, 2 SA, 1 R (5 % scrap); SB: 3 SA; SA: 2 R.  Demand 10 FG and 7 NOBOM.
    # SA reached = 10*2 + 10*1*3 = 50 -> R = 100; R direct = 10 * 1.05 = 10.5.
    bom = bom_frame(
        [
            ("FG", "SB", 1.0, 0.0),
            ("FG", "SA", 2.0, 0.0),
            ("FG", "R", 1.0, 0.05),
            ("SB", "SA", 3.0, 0.0),
            ("SA", "R", 2.0, 0.0),
        ]
    )
    flags = costs({k: True for k in ["FG", "SB", "SA", "R", "NOBOM"]})
    got = as_dict(method(bom, flags, demand([("FG", 10.0), ("NOBOM", 7.0)])))
    assert_close(got, {"R": 110.5})


@pytest.mark.parametrize("method", METHODS)
def test_no_demand_gives_an_empty_result(method):
    got = method(FG_SA_PH, ALL_FLUSHED, demand([]))
    assert len(got) == 0 and list(got.columns) == ["component", "quantity"]


def test_effective_bom_keeps_lines_in_force_on_the_day():
    bom = bom_frame([("P", "A", 1.0, 0.0), ("P", "A", 2.0, 0.0), ("P", "B", 1.0, 0.0)])
    bom.loc[0, "effective_to"] = pd.Timestamp("2026-06-30")
    bom.loc[1, "effective_from"] = pd.Timestamp("2026-07-01")
    bom.loc[2, "effective_from"] = pd.Timestamp("2027-01-01")
    kept = peers.effective_bom(bom, pd.Timestamp("2026-10-31"))
    assert kept["qty_per"].tolist() == [2.0]


@pytest.fixture(scope="module")
def plant_s() -> MonthEndInputs:
    return generate_plant("S")


def test_all_peers_agree_on_plant_s(plant_s):
    bom = peers.effective_bom(plant_s.bom, plant_s.settings.period_end)
    dem = peers.demand_from_completions(plant_s.completions)
    results = {name: f(bom, plant_s.standard_costs, dem) for name, f in peers.METHODS.items()}
    floor = results["scipy.sparse (floor)"]
    assert len(floor) > 50
    for name, got in results.items():
        assert peers.disagreements(got, floor, rtol=RTOL) == [], name


def test_plant_is_deterministic_and_shaped_like_the_model(plant_s):
    again = generate_plant("S")
    pd.testing.assert_frame_equal(plant_s.bom, again.bom)
    pd.testing.assert_frame_equal(plant_s.completions, again.completions)
    sc, bom = plant_s.standard_costs, plant_s.bom
    assert set(sc["item_type"]) == {"Raw", "Subassembly", "Finished", "Phantom"}
    assert (~sc["backflush"]).sum() >= 2
    assert (bom["qty_per"] > 0).all()
    assert (bom["scrap_pct"] > 0).any()
    assert bom["effective_from"].isna().mean() > 0.9
    assert bom["source_row"].tolist() == list(range(2, len(bom) + 2))
    # A DAG: no finished good is a component and components are on lower levels.
    fin = set(sc.loc[sc["item_type"] == "Finished", "item"])
    assert not fin & set(bom["component"])
    raws = set(sc.loc[sc["item_type"] == "Raw", "item"])
    assert not raws & set(bom["parent"])


def test_workbook_round_trips_through_calamine(plant_s, tmp_path):
    from python_calamine import CalamineWorkbook

    path = write_workbook(plant_s, tmp_path / "plant.xlsx")
    wb = CalamineWorkbook.from_path(str(path))
    assert "Settings" in wb.sheet_names and "BOM" in wb.sheet_names
    settings = wb.get_sheet_by_name("Settings").to_python()
    assert settings[0] == ["Setting", "Value"]
    assert str(settings[1][1]).startswith("2026-10-01")
    rows = wb.get_sheet_by_name("BOM").to_python()
    assert rows[0][:4] == ["Parent", "Component", "Qty Per", "Scrap %"]
    assert len(rows) == len(plant_s.bom) + 1
    assert rows[1][0] == plant_s.bom["parent"].iloc[0]
    comp = wb.get_sheet_by_name("Completions").to_python()
    assert len(comp) == len(plant_s.completions) + 1
