"""Collecting located problems in an input file and raising them together as one InputError."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from zonegeo.errors import InputError


@dataclass
class Findings:
    """Problems found in one file; ``raise_if_any`` turns them into a single located error."""

    file: str
    layer: str = ""
    errors: list[dict[str, Any]] = field(default_factory=list)

    def add(self, code: str, message: str, **where: Any) -> None:
        self.errors.append({"code": code, "message": message, "file": self.file, "layer": self.layer, **where})

    def raise_if_any(self) -> None:
        if not self.errors:
            return
        first = self.errors[0]
        more = f"（另有{len(self.errors) - 1}处问题）" if len(self.errors) > 1 else ""
        raise InputError(first["code"], f"{self.file}：{first['message']}{more}",
                         {"file": self.file, "layer": self.layer, "findings": self.errors})
