"""`zonegeo audit …`: checking the audit log's hash chain."""

from __future__ import annotations

from typing import Annotated

import typer

from zonegeo.cli import _dump, _session, app, err, handles_errors, out

audit_app = typer.Typer(help="审计日志", no_args_is_help=True)
app.add_typer(audit_app, name="audit")


@audit_app.command("verify")
@handles_errors
def audit_verify(
    anchor: Annotated[str | None, typer.Option("--anchor", help="此前记下的链头“编号:哈希”，可发现整体重写")] = None,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """核对审计日志的哈希链：每条记录重新计算哈希并与前一条相连。完好退出码0，发现改写退出码1。"""
    from zonegeo.services.audit_verify import parse_anchor, verify_chain

    with _session() as session:
        report = verify_chain(session=session, anchor=parse_anchor(anchor) if anchor else None)
    if as_json:
        _dump(report.to_dict())
    elif report.intact:
        out.print(f"审计日志完好：共{report.rows}条记录，哈希链连续。链头 {report.head_id}:{report.head_hash}"
                  "（可记下作为下次核对的 --anchor）", highlight=False)
    else:
        err.print(f"[red]审计日志被改写[/red]：共{report.rows}条记录，发现{len(report.problems)}处问题", highlight=False)
        for problem in report.problems:
            err.print(f"  - {problem['message']}", highlight=False)
    if not report.intact:
        raise typer.Exit(1)
