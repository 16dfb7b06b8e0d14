"""Comparing two files of one layer (``zonegeo diff``), without a database."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from zonegeo.domain.diff import Tolerances, compare_plans
from zonegeo.domain.model import ZonePlan
from zonegeo.domain.rules import RuleSet
from zonegeo.domain.workdays import WorkCalendar
from zonegeo.errors import InputError
from zonegeo.ingest.role_files import ROLE_LABELS, ReadOptions, read_role

LAYERS = ("boundary", "core", "buildings")


def _plan(path: Path, layer: str, crs: str | None) -> ZonePlan:
    value = read_role(path, layer, options=ReadOptions(crs=crs)).value
    if layer == "buildings":
        return ZonePlan(boundary=None, buildings=tuple(value))  # type: ignore[arg-type]
    return ZonePlan(boundary=value if layer == "boundary" else None, core=value if layer == "core" else None)


def diff_files(*, old: Path, new: Path, layer: str, changed_on: dt.date | None, crs: dict[str, str], rules: RuleSet,
               calendar: WorkCalendar) -> dict[str, Any]:
    if layer not in LAYERS:
        raise InputError("bad_layer", f"--layer 应为 {'、'.join(LAYERS)}", {"layer": layer})
    before, after = _plan(old, layer, crs.get("old")), _plan(new, layer, crs.get("new"))
    diff = compare_plans(before, after, Tolerances.from_rules(rules.change), layers=(layer,))
    area = diff.boundary or diff.core  # the one area layer compared, None for buildings
    result = {"layer": layer, "layer_label": ROLE_LABELS[layer], **diff.to_dict(),
              "area": area.to_dict() if area is not None else None,
              "basis": rules.change.get("basis", "")}
    if changed_on is not None and diff.material:
        result["due"] = calendar.add_working_days(changed_on, int(rules.change["report_within_working_days"])).to_dict()
    return result
