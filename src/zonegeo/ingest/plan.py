"""Assembling a zone plan from files by role, or from a zone folder (zone.toml + role-named files)."""

from __future__ import annotations

import dataclasses
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from zonegeo.domain.lifecycle import STATES
from zonegeo.domain.model import JIANGSU_CITIES, ZoneInfo, ZonePlan
from zonegeo.errors import InputError
from zonegeo.ingest.role_files import ROLE_LABELS, ROLES, LayerRead, ReadOptions, read_role
from zonegeo.ingest.safety import DEFAULT_LIMITS, Limits


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


def parse_role_options(options: list[str] | None, *, what: str = "crs") -> dict[str, str]:
    """``["institutions=gcj02", "boundary=EPSG:4549"]`` → ``{role: value}`` (for --crs and --layer)."""
    out: dict[str, str] = {}
    example = "boundary=EPSG:4549" if what == "crs" else "boundary=四至"
    for opt in options or []:
        role, sep, value = opt.partition("=")
        role = role.strip()
        if not sep or role not in ROLES or not value.strip():
            raise InputError(f"bad_{what}_option", f"参数“{opt}”格式应为 用途=值，如 {example}（用途：{'、'.join(ROLES)}）",
                             {"option": opt, "roles": list(ROLES)})
        out[role] = value.strip()
    return out


def read_roles(items: list[tuple[str, Path, ReadOptions]]) -> dict[str, LayerRead]:
    """Read every file, collecting the findings of all of them before giving up, so that the user sees
    every problem at once."""
    findings: list[dict[str, Any]] = []
    reads: dict[str, LayerRead] = {}
    roles = [role for role, _, _ in items]
    for role in sorted({r for r in roles if roles.count(r) > 1}):
        findings.append({"code": "duplicate_role", "message": f"同一次提交中有多个{ROLE_LABELS.get(role, role)}文件",
                         "role": role})
    # institutions last: a row without coordinates is placed at its 楼栋 among the buildings read before it
    for role, path, options in sorted(items, key=lambda item: item[0] == "institutions"):
        name = options.name or Path(path).name
        if role == "institutions" and "buildings" in reads:
            boundary = reads["boundary"].value if "boundary" in reads else options.boundary
            options = dataclasses.replace(options, buildings=tuple(reads["buildings"].value), boundary=boundary)
        if role not in ROLES:
            findings.append({"code": "unknown_role", "message": f"{name}：未知的用途“{role}”，应为：{'、'.join(ROLES)}",
                             "file": name})
            continue
        try:
            reads[role] = read_role(path, role, options=options)
        except InputError as exc:
            findings.extend(exc.detail.get("findings") or [{**exc.detail, "code": exc.code, "message": exc.message}])
    if len(findings) == 1:
        only = findings[0]
        raise InputError(only["code"], only["message"], {k: v for k, v in only.items() if k not in ("code", "message")}
                         | {"findings": findings})
    if findings:
        more = f"（共{len(findings)}处问题）" if len(findings) > 1 else ""
        raise InputError("input_invalid", f"文件未通过检查：{findings[0]['message']}{more}", {"findings": findings})
    return reads


def read_plan(files: dict[str, Path], crs: dict[str, str] | None = None, *, layers: dict[str, str] | None = None,
              repair: bool = False, encodings: dict[str, str] | None = None,
              limits: Limits = DEFAULT_LIMITS) -> PlanRead:
    """Read each role's file; a boundary is required. ``encodings``: 自动/UTF-8/GBK per role; ``limits``: the
    work one file may cause (the settings' limits, as for uploads)."""
    crs, layers, encodings = crs or {}, layers or {}, encodings or {}
    if "boundary" not in files:
        raise InputError("missing_boundary", "缺少四至范围（boundary）文件", {"roles": sorted(files)})
    reads = read_roles([(role, path, ReadOptions(crs=crs.get(role), layer=layers.get(role), repair=repair,
                                                 encoding=encodings.get(role), limits=limits))
                        for role, path in files.items()])
    plan = ZonePlan(
        boundary=reads["boundary"].value,
        core=reads["core"].value if "core" in reads else None,
        buildings=tuple(reads["buildings"].value) if "buildings" in reads else (),
        institutions=tuple(reads["institutions"].value) if "institutions" in reads else (),
    )
    return PlanRead(plan, [r.input for r in reads.values()], [w for r in reads.values() for w in r.warnings])


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


def read_zone_info(folder: Path) -> tuple[ZoneInfo, dict[str, Any]]:
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
    status = str(data.get("status", "operating"))
    if status not in STATES:
        raise InputError("bad_zone_toml", f"zone.toml中的状态“{status}”不正确，应为：{'、'.join(STATES)}",
                         {"file": str(path), "status": status})
    info = ZoneInfo(code=str(data["code"]).strip(), name=str(data["name"]).strip(), city=city,
                    builder=str(data.get("builder", "")), operator=str(data.get("operator", "")),
                    note=str(data.get("note", "")), status=status,
                    extra={str(k): str(v) for k, v in data.get("dates", {}).items()})
    options = {"crs": {str(k): str(v) for k, v in data.get("crs", {}).items()},
               "layer": {str(k): str(v) for k, v in data.get("layer", {}).items()},
               "encoding": {str(k): str(v) for k, v in data.get("encoding", {}).items()},
               "repair": bool(data.get("repair", False))}
    return info, options


def read_zone_dir(folder: Path, *, limits: Limits = DEFAULT_LIMITS) -> ZoneBundle:
    folder = Path(folder)
    if not folder.is_dir():
        raise InputError("not_a_folder", f"找不到集聚区文件夹：{folder}", {"folder": str(folder)})
    info, options = read_zone_info(folder)
    files = find_role_files(folder)
    return ZoneBundle(info, read_plan(files, options["crs"], layers=options["layer"], repair=options["repair"],
                                      encodings=options["encoding"], limits=limits), files)
