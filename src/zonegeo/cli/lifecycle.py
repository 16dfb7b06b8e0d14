"""Lifecycle deadlines: `due-list` (every zone's pending steps) and `deadlines recompute`."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

import typer

from zonegeo.cli import _calendar, _dump, _rules, _session, app, handles_errors, out

deadlines_app = typer.Typer(help="截止日期", no_args_is_help=True)


@app.command("due-list")
@handles_errors
def due_list(city: Annotated[str | None, typer.Option("--city", help="设区市，如 南京市")] = None,
             as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """全部集聚区的待办事项和截止日期（省局视角），逾期标出。"""
    from zonegeo.db.models import User
    from zonegeo.services.lifecycle import worklist

    province = User(username="cli", role="province", city=None)  # the province's view; not stored
    with _session() as session:
        rows = worklist(session=session, user=province, today=dt.date.today(), city=city, calendar=_calendar())
    if as_json:
        _dump(rows)
        return
    for r in rows:
        flag = "[red]已逾期[/red]" if r["overdue"] else f"还剩{r['days_left']}天"
        out.print(f"{r['due']}  {r['city']}  {r['zone_name']}  {r['what']}  {flag}")


app.add_typer(deadlines_app, name="deadlines")


@deadlines_app.command("recompute")
@handles_errors
def deadlines_recompute(as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """节假日安排公布后，重新计算此前按暂定日历算出的截止日期（逐项记入审计日志）。"""
    from zonegeo.services.deadlines import recompute

    with _session() as session:
        rows = recompute(session=session, calendar=_calendar(), rules=_rules(), actor="cli")
    if as_json:
        _dump(rows)
        return
    if not rows:
        out.print("没有需要重新计算的暂定截止日期")
    for r in rows:
        out.print(f"{r['zone_code']}  {r['deadline']}：{r['before']} → {r['after']}")
