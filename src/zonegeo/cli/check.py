"""`zonegeo check`: files checked against the rules without a database."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from zonegeo.cli import _dump, _limits, _rules, app, handles_errors, out, settings


@app.command()
@handles_errors
def check(
    boundary: Annotated[Path, typer.Option("--boundary", help="四至范围（GeoJSON面图层）")],
    core: Annotated[Path | None, typer.Option("--core", help="核心区（GeoJSON面图层）")] = None,
    buildings: Annotated[Path | None, typer.Option("--buildings", help="建筑（GeoJSON，含层数属性）")] = None,
    institutions: Annotated[Path | None, typer.Option("--institutions", help="机构表（CSV）")] = None,
    crs: Annotated[list[str] | None, typer.Option("--crs", help="坐标系，如 boundary=EPSG:4549、institutions=gcj02")] = None,
    layer: Annotated[list[str] | None, typer.Option("--layer", help="多图层文件中要读的图层，如 boundary=四至")] = None,
    repair: Annotated[bool, typer.Option("--repair", help="自动修复无效几何（在报告中说明）")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="输出JSON报告")] = False,
    map_out: Annotated[Path | None, typer.Option("--map", help="同时输出交互地图HTML")] = None,
) -> None:
    """核验申报文件是否符合申报条件（不需要数据库）。支持GeoJSON、Shapefile(.zip)、KML/KMZ、GeoPackage、DXF、
    界址点坐标表(CSV/XLSX)、用地红线坐标TXT；机构为CSV/XLSX或点图层。"""
    from zonegeo.ingest.plan import parse_role_options, read_plan
    from zonegeo.services.eligibility import check_read

    files = {role: path for role, path in (("boundary", boundary), ("core", core), ("buildings", buildings),
                                           ("institutions", institutions)) if path is not None}
    read = read_plan(files, parse_role_options(crs), layers=parse_role_options(layer, what="layer"), repair=repair,
                     limits=_limits())
    report = check_read(read, rules=_rules())
    if map_out is not None:
        from zonegeo.services.mapping import write_check_map

        write_check_map(read=read, report=report, title=files["boundary"].name, out=map_out, tiles=settings().tiles)
    if as_json:
        _dump(report.to_dict())
    else:
        from zonegeo.console import print_report

        print_report(report, out)
    raise typer.Exit(0 if report.eligible else 1)
