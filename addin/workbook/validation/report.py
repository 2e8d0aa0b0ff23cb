"""Findings of one validation pass, collected with a cap per rule and column."""

from __future__ import annotations

from collections import Counter

from addin.costing.model import Finding, Severity

MAX_FINDINGS_PER_RULE = 50


class Report:
    """Collects findings; beyond MAX_FINDINGS_PER_RULE per (sheet, check, group) it counts."""

    def __init__(self) -> None:
        self.findings: list[Finding] = []
        self._seen: Counter[tuple[str, str, str]] = Counter()
        self._severity: dict[tuple[str, str, str], Severity] = {}

    def add(
        self,
        severity: Severity,
        check: str,
        message: str,
        sheet: str = "",
        cell: str = "",
        item: str = "",
        group: str = "",
    ) -> None:
        key = (sheet, check, group)
        self._seen[key] += 1
        self._severity[key] = severity
        if self._seen[key] <= MAX_FINDINGS_PER_RULE:
            self.findings.append(Finding(severity, check, message, sheet, cell, item))

    def error(self, check: str, message: str, sheet: str = "", cell: str = "", item: str = "",
              group: str = "") -> None:  # fmt: skip
        self.add(Severity.ERROR, check, message, sheet, cell, item, group)

    def skipped(self, severity: Severity, check: str, sheet: str, group: str, n: int) -> None:
        """Count ``n`` further findings that were not built."""
        if n > 0:
            key = (sheet, check, group)
            self._seen[key] += n
            self._severity[key] = severity

    @property
    def has_errors(self) -> bool:
        return any(f.severity is Severity.ERROR for f in self.findings)

    def finish(self) -> list[Finding]:
        out = list(self.findings)
        for (sheet, check, group), n in self._seen.items():
            if n > MAX_FINDINGS_PER_RULE:
                where = f" in column {group}" if group else ""
                out.append(
                    Finding(
                        self._severity[(sheet, check, group)],
                        check,
                        f"{n - MAX_FINDINGS_PER_RULE:,} more cells{where} have the same problem "
                        f"({check}) as those listed; fix them the same way",
                        sheet,
                    )
                )
        return out
