"""Readable Chinese terminal output (rich) of reports and zone lists."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from rich.table import Table

if TYPE_CHECKING:  # the CLI's --help imports this module: no shapely/numpy/pyproj for a type
    from rich.console import Console

    from zonegeo.domain.check import Report


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:,.2f}"
    if isinstance(value, list):
        return "、".join(map(str, value)) or "—"
    return "—" if value is None else str(value)


def print_report(report: Report, console: Console) -> None:
    zone = report.zone
    head = f"{zone['name']}（{zone['code']}，版本{zone['version']}）" if zone else "集聚区申报条件核验"
    console.print(f"[bold]{head}[/bold]  规则：{report.ruleset['title']}")
    a = report.areas
    console.print(f"四至用地面积 {a['land_m2']:,.1f} 平方米；核心区用地面积 {a['core_land_m2']:,.2f} 平方米；"
                  f"核心区内建筑面积 {a['core_floor_m2']:,.2f} 平方米；建筑占地 {a['footprint_m2']:,.1f} 平方米；"
                  f"四至范围内建筑面积 {a['floor_m2']:,.2f} 平方米（{a['method']}）")
    table = Table(title="申报条件核验结果", show_lines=True, expand=True)
    for col, ratio in (("条件", 2), ("要求", 2), ("实际", 2), ("结果", 1), ("说明", 5)):
        table.add_column(col, ratio=ratio, overflow="fold")
    for r in report.rules:
        table.add_row(r.title, _fmt(r.required), _fmt(r.actual),
                      "[green]符合[/green]" if r.passed else "[red]不符合[/red]", f"{r.message}\n[dim]{r.basis}[/dim]")
    console.print(table)
    inst = report.institutions
    for o in inst["outside"]:
        console.print(f"[yellow]范围外机构[/yellow]：{o['name']}，距四至边界约{o['distance_m']:,.2f}米")
    for v in inst["invalid_credit_codes"]:
        console.print(f"[yellow]信用代码无效[/yellow]：{v['name']}（{v['credit_code']}）：{v['reason']}")
    for w in report.warnings:
        console.print(f"[yellow]提示[/yellow]：{w.message}")
    if report.manual_review:
        review = Table(title="需人工审核的事项（无法由空间数据判定）", show_lines=True, expand=True)
        for col, ratio in (("事项", 2), ("依据", 7)):
            review.add_column(col, ratio=ratio, overflow="fold")
        for item in report.manual_review:
            review.add_row(item.title, item.basis)
        console.print(review)
    colour = "green" if report.eligible else "red"
    console.print(f"[bold {colour}]结论：{report.conclusion}[/bold {colour}]")


def print_zones(zones: list[dict[str, Any]], console: Console) -> None:
    table = Table(title=f"已登记的集聚区（{len(zones)}个）")
    for col in ("编号", "名称", "设区市", "状态", "版本", "四至面积（平方米）", "机构数"):
        table.add_column(col)
    for z in zones:
        table.add_row(z["code"], z["name"], z["city"], z["status"], _fmt(z["version"]),
                      _fmt(z["land_m2"]), str(z["institutions"]))
    console.print(table)


def print_diff(result: dict[str, Any], console: Console) -> None:
    verdict = "[bold green]无实质变化[/bold green]（数字化误差范围内）"
    if result["material"]:
        verdict = "[bold red]有实质变化[/bold red]"
    console.print(f"{result['layer_label']}：{verdict}")
    for reason in result["reasons"]:
        console.print(f"  - {reason}")
    area = result.get("area")
    if area:
        console.print(f"面积：{area['area_before_m2']:,.1f} → {area['area_after_m2']:,.1f} 平方米"
                      f"（{area['area_change_m2']:+,.1f}）；对称差 {area['symmetric_difference_m2']:,.1f} 平方米；"
                      f"边界最大偏移 {area['hausdorff_m']:,.2f} 米")
    if result.get("due"):
        d = result["due"]
        note = "（暂定）" if d["provisional"] else ""
        console.print(f"变更发生于{d['from']}，应于[bold]{d['due']}[/bold]{note}前报告（{d['working_days']}个工作日）")


def print_changes(rows: list[dict[str, Any]], console: Console) -> None:
    table = Table(title=f"变更事项（{len(rows)}项）")
    for col in ("设区市", "集聚区", "类型", "发生日期", "报告截止", "状态"):
        table.add_column(col)
    for r in rows:
        table.add_row(r["city"], r["zone_name"], r["kind_label"], r["occurred_on"],
                      r["report_due"] + ("（暂定）" if r["due_provisional"] else ""), r["status_label"])
    console.print(table)
