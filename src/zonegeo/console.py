"""Readable Chinese terminal output (rich) of reports and zone lists."""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.table import Table

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
    console.print(f"四至用地面积 {a['land_m2']:,.1f} 平方米；核心区用地面积 {a['core_land_m2']:,.1f} 平方米；"
                  f"建筑占地 {a['footprint_m2']:,.1f} 平方米；建筑面积 {a['floor_m2']:,.1f} 平方米"
                  f"（{a['method']}）")
    table = Table(title="申报条件核验结果", show_lines=True, expand=True)
    for col, ratio in (("条件", 2), ("要求", 2), ("实际", 2), ("结果", 1), ("说明", 5)):
        table.add_column(col, ratio=ratio, overflow="fold")
    for r in report.rules:
        table.add_row(r.title, _fmt(r.required), _fmt(r.actual),
                      "[green]符合[/green]" if r.passed else "[red]不符合[/red]", f"{r.message}\n[dim]{r.basis}[/dim]")
    console.print(table)
    inst = report.institutions
    for o in inst["outside"]:
        console.print(f"[yellow]范围外机构[/yellow]：{o['name']}，距四至边界约{o['distance_m']:,.1f}米")
    for v in inst["invalid_credit_codes"]:
        console.print(f"[yellow]信用代码无效[/yellow]：{v['name']}（{v['credit_code']}）：{v['reason']}")
    for w in report.warnings:
        console.print(f"[yellow]提示[/yellow]：{w.message}")
    verdict = "[bold green]结论：符合全部申报条件[/bold green]" if report.eligible else \
        "[bold red]结论：不符合申报条件[/bold red]"
    console.print(verdict)


def print_zones(zones: list[dict[str, Any]], console: Console) -> None:
    table = Table(title=f"已登记的集聚区（{len(zones)}个）")
    for col in ("编号", "名称", "设区市", "状态", "版本", "四至面积（平方米）", "机构数"):
        table.add_column(col)
    for z in zones:
        table.add_row(z["code"], z["name"], z["city"], z["status"], _fmt(z["version"]),
                      _fmt(z["land_m2"]), str(z["institutions"]))
    console.print(table)
