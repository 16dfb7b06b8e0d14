"""Zones in the database: `import`, `zones`, `report`, `map`, `publish`, `set-published`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from zonegeo.cli import _calendar, _dump, _limits, _rules, _session, app, err, handles_errors, out, settings


@app.command("import")
@handles_errors
def import_(folder: Annotated[Path, typer.Argument(help="集聚区文件夹（zone.toml 及 boundary.* 等文件）")]) -> None:
    """导入集聚区文件夹到数据库（空间布局为新版本，机构同步准入/退出）。"""
    from zonegeo.services.zones import import_zone

    with err.status("正在读取并导入…"), _session() as session:
        result = import_zone(session=session, folder=folder, rules=_rules(), calendar=_calendar(),
                             limits=_limits())
    if result.unchanged:
        out.print(f"集聚区 {result.code} 的文件与上次导入相同，未写入任何内容（版本{result.version}）")
        return
    what = "新建" if result.created_zone else "更新"
    version = f"新版本{result.version}" if result.new_version else f"空间布局未变化，仍为版本{result.version}"
    if result.kept_approved:
        version = f"保留用户已批准的空间布局（版本{result.version}），未采用文件中的空间布局"
    c = result.institutions
    out.print(f"已{what}集聚区 {result.code}：{version}；机构新增{c['entered']}家、退出{c['left']}家、"
              f"更新{c['updated']}家")
    if result.change_report_due:
        out.print(f"[yellow]空间布局有实质变化，已登记变更事项：应于{result.change_report_due:%Y年%m月%d日}前报告[/yellow]")
    _integrity(result.code)


def _integrity(code: str) -> None:
    """跨集聚区核查 after an import: what names this zone, as warnings (the import itself stands)."""
    from zonegeo.services import integrity

    with _session() as session:
        found = integrity.for_zone(integrity.findings(session, zone=code), code)
    for f in found:
        err.print(f"[yellow]跨集聚区核查[/yellow]（{f['kind']}）：{f['message']}", highlight=False)


@app.command()
@handles_errors
def zones(as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """列出数据库中的集聚区。"""
    from zonegeo.services.zones import list_zones

    with _session() as session:
        rows = list_zones(session=session)
    if as_json:
        _dump(rows)
    else:
        from zonegeo.console import print_zones

        print_zones(rows, out)


@app.command()
@handles_errors
def report(code: str, as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """按数据库中的当前版本生成申报条件核验报告（与 check 相同）。"""
    from zonegeo.services.eligibility import zone_report

    with _session() as session:
        result = zone_report(session=session, code=code, rules=_rules())
    if as_json:
        _dump(result.to_dict())
    else:
        from zonegeo.console import print_report

        print_report(result, out)
    raise typer.Exit(0 if result.eligible else 1)


@app.command("map")
@handles_errors
def map_(
    code: str,
    output: Annotated[Path | None, typer.Option("-o", "--output", help="输出HTML文件，默认 maps/编号.html")] = None,
    offline: Annotated[bool, typer.Option("--offline", help="单个自包含文件（现场核查用：无网络也能打开）")] = False,
    version_number: Annotated[int | None, typer.Option("--version", help="版本号，默认当前批准版本")] = None,
) -> None:
    """输出集聚区交互地图。--offline 输出单个文件；否则在同一目录放置 assets/ 文件夹。"""
    import shutil

    from zonegeo.maps.assets import ASSET_DIR
    from zonegeo.services.mapping import zone_map_html

    output = output or settings().maps_dir / f"{code}.html"
    output.parent.mkdir(parents=True, exist_ok=True)
    with _session() as session:
        page = zone_map_html(session=session, code=code, rules=_rules(), tiles=settings().tiles,
                             self_contained=offline, asset_base="assets", version_number=version_number,
                             audience="offline" if offline else "reviewer", tianditu_key=settings().tianditu_key)
    if not offline:
        shutil.copytree(ASSET_DIR, output.parent / "assets", dirs_exist_ok=True)
    output.write_text(page, encoding="utf-8")
    out.print(f"地图已写入 {output}" + ("（单个文件，可离线打开）" if offline else "（连同 assets/ 文件夹）"))


@app.command()
@handles_errors
def publish(output: Annotated[Path | None, typer.Option("-o", "--output", help="输出目录，默认 maps/")] = None) -> None:
    """生成公开网站（index.html、每个已公布集聚区一页、zones.geojson），可由任何静态网站服务器发布。"""
    from zonegeo.services.publishing import publish as run_publish

    target = output or settings().maps_dir
    with err.status("正在生成公开地图…"), _session() as session:
        result = run_publish(session=session, rules=_rules(), out_dir=target, tiles=settings().tiles,
                             tianditu_key=settings().tianditu_key)
    out.print(f"已生成公开网站：{target}/index.html（{len(result['zones'])}个集聚区）")
    # how old the snapshot is: events (批复, 取消称号 …) update the app's pages at once, never these files
    out.print(f"{result['summary']}；此后的批复、公布、取消称号须再次运行 zonegeo publish 才会写入静态网站")


@app.command("set-published")
@handles_errors
def set_published_(code: str, off: Annotated[bool, typer.Option("--off", help="撤下公开")] = False) -> None:
    """设置集聚区是否在公开地图上公布（运行 publish 后生效）。"""
    from zonegeo.services.publishing import set_published

    with _session() as session:
        set_published(session=session, code=code, published=not off)
    out.print(f"集聚区 {code} 已{'撤下公开' if off else '设为公开'}；运行 zonegeo publish 更新公开网站")
