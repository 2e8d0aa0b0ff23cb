import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))


def pytest_configure(config):
    config.addinivalue_line(
        "markers", "fuzz: the bounded fuzz run through the CLI (deselect with -m 'not fuzz')"
    )
