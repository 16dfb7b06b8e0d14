"""Versions and changes: `diff` (two files), `due` (a working-day deadline), `changes` (change events), `version`
(submit or approve a stored version)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Annotated

import typer

from zonegeo.cli import _calendar, _date, _dump, _rules, _session, app, handles_errors, out
from zonegeo.errors import ZonegeoError


@app.command()
@handles_errors
def diff(
    old: Annotated[Path, typer.Option("--old", help="变更前的文件")],
    new: Annotated[Path, typer.Option("--new", help="变更后的文件")],
    layer: Annotated[str, typer.Option("--layer", help="比较的图层：boundary、core 或 buildings")] = "boundary",
    changed_on: Annotated[str | None, typer.Option("--changed-on", help="变更日期 YYYY-MM-DD（给出则计算报告截止日）")] = None,
    crs: Annotated[list[str] | None, typer.Option("--crs", help="坐标系，如 old=EPSG:4549、new=gcj02")] = None,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """比较同一图层的两个文件，判断是否为需要报告的空间布局变更。退出码：0 无实质变化，1 有实质变化，2 输入无法使用。"""
    from zonegeo.services.diffing import diff_files

    given = {}
    for opt in crs or []:
        key, _, value = opt.partition("=")
        if key not in ("old", "new") or not value:
            raise ZonegeoError("bad_crs_option", f"参数“{opt}”格式应为 old=坐标系 或 new=坐标系", {"option": opt})
        given[key] = value
    result = diff_files(old=old, new=new, layer=layer, changed_on=_date(changed_on, "--changed-on"),
                        crs=given, rules=_rules(), calendar=_calendar())
    if as_json:
        _dump(result)
    else:
        from zonegeo.console import print_diff

        print_diff(result, out)
    raise typer.Exit(1 if result["material"] else 0)


@app.command()
@handles_errors
def due(
    start: Annotated[str, typer.Option("--from", help="事项发生日期 YYYY-MM-DD（当天不计）")],
    working_days: Annotated[int, typer.Option("--working-days", help="工作日数", min=0)],
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """按中国工作日（含法定节假日和调休）计算截止日期。"""
    start_on = _date(start, "--from")
    assert start_on is not None  # --from is required
    result = _calendar().add_working_days(start_on, working_days)
    if as_json:
        _dump(result.to_dict())
        return
    note = f"（暂定：{'、'.join(map(str, result.provisional_years))}年节假日安排尚未公布，按法定节假日推算）" \
        if result.provisional else ""
    out.print(f"{result.start:%Y年%m月%d日}后第{working_days}个工作日：[bold]{result.due:%Y年%m月%d日}[/bold]{note}")


@app.command()
@handles_errors
def changes(
    overdue: Annotated[bool, typer.Option("--overdue", help="只列出已逾期的")] = False,
    city: Annotated[str | None, typer.Option("--city", help="设区市，如 南京市")] = None,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """列出变更事项及其报告截止日期（截止日期由近到远）。"""
    from zonegeo.services.changes import list_changes

    with _session() as session:
        rows = list_changes(session=session, today=dt.date.today(), status_filter="overdue" if overdue else None,
                            city=city)
    if as_json:
        _dump(rows)
    else:
        from zonegeo.console import print_changes

        print_changes(rows, out)


@app.command()
@handles_errors
def version(
    action: Annotated[str, typer.Argument(help="submit（提交）、approve（批准）或 withdraw（撤回草稿）")],
    code: str,
    number: int,
    effective_on: Annotated[str | None, typer.Option("--effective-on", help="批准时：新布局生效日期")] = None,
    by: Annotated[str, typer.Option("--by", help="操作人")] = "cli",
) -> None:
    """提交或批准一个空间布局版本；批准时若与原批准版本有实质变化，自动登记变更事项。"""
    from zonegeo.services.changes import transition

    with _session() as session:
        result = transition(session=session, code=code, number=number, action=action, by=by, rules=_rules(),
                            calendar=_calendar(), effective_on=_date(effective_on, "--effective-on"))
    out.print(f"版本{number}已{ {'submit': '提交', 'withdraw': '撤回'}.get(action, '批准') }")
    if result["change_event"]:
        out.print(f"[yellow]空间布局有实质变化，已登记变更事项，应于{result['change_event']['report_due']}前报告[/yellow]")
