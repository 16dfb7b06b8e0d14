"""`zonegeo export WHAT [--out PATH] [--city 市] [--zone CODE] [--encoding GBK|UTF-8]`: the files of /exports from
the command line (all zones: the command line acts for the province)."""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Callable
from pathlib import Path
from typing import Annotated

import typer

from zonegeo.cli import _calendar, _rules, _session, app, err, handles_errors, out
from zonegeo.errors import InputError

# what -> (Chinese stem of the default file name, suffix)
WHAT = {"zones": ("集聚区名录", ".xlsx"), "institutions": ("机构名录", ".xlsx"), "changes": ("变更事项", ".xlsx"),
        "deadlines": ("截止日期", ".xlsx"), "layouts-gpkg": ("空间布局", ".gpkg"),
        "layouts-shp": ("空间布局-Shapefile", ".zip"), "evaluations": ("", ".xlsx"), "evaluations-excellent": ("", ".xlsx")}


def _write(path: Path, content: bytes) -> None:
    """Written whole or not at all: a half-written file never stands under the name asked for."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.part")
    tmp.write_bytes(content)
    os.replace(tmp, path)


def _layers(make: Callable[[Callable[[str], None]], bytes], label: str) -> bytes:
    from rich.progress import BarColumn, Progress, TextColumn

    from zonegeo.services.exports import LAYER_FIELDS, LAYER_LABELS

    with Progress(TextColumn("{task.description}"), BarColumn(), TextColumn("{task.completed}/{task.total}图层"),
                  console=err, transient=True) as progress:
        task = progress.add_task(label, total=len(LAYER_FIELDS))

        def step(layer: str) -> None:
            progress.update(task, advance=1, description=f"{label}：{LAYER_LABELS[layer]}")

        return make(step)


@app.command("export")
@handles_errors
def export(
    what: Annotated[str, typer.Argument(help="zones | institutions | changes | deadlines | layouts-gpkg | layouts-shp | "
                                             "evaluations | evaluations-excellent")],
    out_path: Annotated[Path | None, typer.Option("--out", "-o", help="输出文件（默认：当前目录下的中文文件名）")] = None,
    city: Annotated[str | None, typer.Option("--city", help="只导出一个设区市，如“苏州市”")] = None,
    zone: Annotated[str | None, typer.Option("--zone", help="只导出一个集聚区的空间布局（layouts-*）")] = None,
    encoding: Annotated[str, typer.Option("--encoding", help="Shapefile的文本编码：GBK或UTF-8")] = "GBK",
    round_id: Annotated[int | None, typer.Option("--round", help="综合评价的编号（evaluations、evaluations-excellent）")] = None,
) -> None:
    """导出集聚区名录、机构名录、变更事项、截止日期（.xlsx）或已批准的空间布局（GeoPackage、Shapefile压缩包）。"""
    from zonegeo.services import exports

    if what not in WHAT:
        raise InputError("unknown_export", f"没有“{what}”这种导出，应为：{'、'.join(WHAT)}",
                         {"what": what, "allowed": list(WHAT)})
    if what.startswith("evaluations"):
        _evaluation(what, round_id, out_path)
        return
    if zone is not None and not what.startswith("layouts"):
        raise InputError("zone_not_applicable", "--zone 只用于空间布局导出（layouts-gpkg、layouts-shp）", {"what": what})
    scope = exports.scope_for(None, city=city, code=zone)
    chosen = exports.check_encoding(encoding) if what == "layouts-shp" else ""
    today = dt.date.today()
    with _session() as session:
        if what == "zones":
            content, rows = exports.zones_xlsx(session=session, scope=scope, rules=_rules())
        elif what == "institutions":
            content, rows = exports.institutions_xlsx(session=session, scope=scope)
        elif what == "changes":
            content, rows = exports.changes_xlsx(session=session, scope=scope, today=today)
        elif what == "deadlines":
            content, rows = exports.deadlines_xlsx(session=session, scope=scope, today=today, calendar=_calendar())
        else:
            data = exports.layouts(session=session, scope=scope, rules=_rules())
            rows = data.zones
            if what == "layouts-gpkg":
                content = _layers(lambda step: exports.layouts_gpkg(data, step), "写出GeoPackage")
            else:
                content = _layers(lambda step: exports.layouts_shapefile_zip(data, chosen, step), "写出Shapefile")
    stem, suffix = WHAT[what]
    path = out_path or Path(exports.file_name(stem + (f"-{chosen}" if chosen else ""), scope, suffix, today))
    _write(path, content)
    unit = "个集聚区的空间布局" if what.startswith("layouts") else "行"
    out.print(f"已导出{rows}{unit}：{path}", highlight=False)


def _evaluation(what: str, round_id: int | None, out_path: Path | None) -> None:
    """A round's results or its 优秀 list (for the national 试验区 recommendation), as the province gets them."""
    from zonegeo.db.models import User
    from zonegeo.services import evaluations

    if round_id is None:
        raise InputError("round_required", "请用 --round 指定综合评价的编号（见 /evaluations）", {"option": "--round"})
    acting = User(username="cli", role="province")  # the command line acts for the province, as for other exports
    with _session() as session:
        content, name = evaluations.export(session=session, user=acting, round_id=round_id,
                                           kind="excellent" if what == "evaluations-excellent" else "results")
    path = out_path or Path(name)
    _write(path, content)
    out.print(f"已导出：{path}", highlight=False)
