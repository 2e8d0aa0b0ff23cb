import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

# The fast lane (`make check`) leaves out what needs LibreOffice and what runs for many seconds:
# these modules, and the single long tests named below. `make test` runs everything.
SLOW_MODULES = frozenset(
    {
        "test_fuzz",  # ~1 min: the bounded fuzz run through the CLI
        "test_properties",  # ~1 min: hypothesis draws hundreds of plants
        "test_recalc_libreoffice",  # LibreOffice recalculates the result workbooks
        "test_spreadsheet_app",  # LibreOffice renders and reads back
        "test_bench_peers",  # peer benchmarks' small runs
    }
)
SLOW_TESTS = frozenset(
    {
        "test_kill_at_any_moment_leaves_the_old_or_the_new_results",  # 30 s of killed runs
        "test_libreoffice_imports_the_vba_and_config_sheet",
        "test_mypy_whole_addin",  # `make check` runs mypy itself
        "test_detail_foots_to_the_journal_line_by_line",  # hypothesis: 40 random months
    }
)


def pytest_configure(config):
    config.addinivalue_line(
        "markers", "fuzz: the bounded fuzz run through the CLI (deselect with -m 'not fuzz')"
    )
    config.addinivalue_line(
        "markers", "slow: needs LibreOffice or runs for many seconds (left out by `make check`)"
    )


def pytest_collection_modifyitems(config, items):
    for item in items:
        module = item.module.__name__.rsplit(".", 1)[-1] if item.module else ""
        if module in SLOW_MODULES or item.originalname in SLOW_TESTS:
            item.add_marker(pytest.mark.slow)
