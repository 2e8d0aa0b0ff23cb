"""Fuzzing the month-end through the real command line (issue 10).

months.py   seeded generators of valid-but-unusual months (sheets of rows) and their writer
damage.py   seeded damage: at the zip/XML level and at the value level
verify.py   an independent re-verifier of a results workbook (openpyxl only, no engine import)
runner.py   the CLI in a subprocess (timeout, memory limit), one outcome class per case
cases.py    seed -> case: which generator, the workbook, what outcome is acceptable
"""
