"""Assembling a zone plan from files by role, or from a zone folder (zone.toml + role-named files)."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from zonegeo.domain.model import JIANGSU_CITIES, ZoneInfo, ZonePlan
from zonegeo.errors import InputError
from zonegeo.ingest.layers import ROLES, read_role


@dataclass
class PlanRead:
    plan: ZonePlan
    inputs: list[dict[str, Any]]
    warnings: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class ZoneBundle:
    info: ZoneInfo
    read: PlanRead
    files: dict[str, Path]


def parse_crs_options(options: list[str] | None) -> dict[str, str]:
    """``["institutions=gcj02", "boundary=EPSG:4549"]`` → ``{role: crs}``."""
    out: dict[str, str] = {}
    for opt in options or []:
        role, sep, crs = opt.partition("=")
        role = role.strip()
        if not sep or role not in ROLES or not crs.strip():
            raise InputError("bad_crs_option", f"坐标系参数“{opt}”格式应为 图层=坐标系，如 boundary=EPSG:4549",
                             {"option": opt, "roles": list(ROLES)})
        out[role] = crs.strip()
    return out


def read_plan(files: dict[str, Path], crs: dict[str, str] | None = None) -> PlanRead:
    """Read each role's file; a boundary is required."""
    crs = crs or {}
    if "boundary" not in files:
        raise InputError("missing_boundary", "缺少四至范围（boundary）文件", {"roles": sorted(files)})
    layers = {role: read_role(path, role, crs=crs.get(role)) for role, path in files.items()}
    plan = ZonePlan(
        boundary=layers["boundary"].value,
        core=layers["core"].value if "core" in layers else None,
        buildings=tuple(layers["buildings"].value) if "buildings" in layers else (),
        institutions=tuple(layers["institutions"].value) if "institutions" in layers else (),
    )
    return PlanRead(plan, [layer.input for layer in layers.values()],
                    [w for layer in layers.values() for w in layer.warnings])


def find_role_files(folder: Path) -> dict[str, Path]:
    files: dict[str, Path] = {}
    for role in ROLES:
        matches = sorted(p for p in folder.glob(f"{role}.*") if p.is_file())
        if len(matches) > 1:
            names = "、".join(p.name for p in matches)
            raise InputError("ambiguous_role_files", f"{folder}中有多个{role}文件：{names}",
                             {"folder": str(folder), "role": role})
        if matches:
            files[role] = matches[0]
    return files


def read_zone_info(folder: Path) -> tuple[ZoneInfo, dict[str, str]]:
    path = folder / "zone.toml"
    if not path.is_file():
        raise InputError("missing_zone_toml", f"{folder}中缺少zone.toml（集聚区编号、名称、所在设区市等）",
                         {"folder": str(folder)})
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise InputError("bad_zone_toml", f"zone.toml格式错误：{exc}", {"file": str(path)}) from exc
    missing = [k for k in ("code", "name", "city") if not str(data.get(k, "")).strip()]
    if missing:
        raise InputError("bad_zone_toml", f"zone.toml缺少字段：{'、'.join(missing)}", {"file": str(path)})
    city = str(data["city"]).strip()
    if city not in JIANGSU_CITIES:
        raise InputError("unknown_city", f"zone.toml中的设区市“{city}”不是江苏省的设区市",
                         {"file": str(path), "city": city, "allowed": list(JIANGSU_CITIES)})
    info = ZoneInfo(code=str(data["code"]).strip(), name=str(data["name"]).strip(), city=city,
                    builder=str(data.get("builder", "")), operator=str(data.get("operator", "")),
                    note=str(data.get("note", "")))
    return info, {str(k): str(v) for k, v in data.get("crs", {}).items()}


def read_zone_dir(folder: Path) -> ZoneBundle:
    folder = Path(folder)
    if not folder.is_dir():
        raise InputError("not_a_folder", f"找不到集聚区文件夹：{folder}", {"folder": str(folder)})
    info, crs = read_zone_info(folder)
    files = find_role_files(folder)
    return ZoneBundle(info, read_plan(files, crs), files)
