"""`zonegeo user …`: users, access tokens and zone membership."""

from __future__ import annotations

from typing import Annotated

import typer

from zonegeo.cli import _dump, _session, app, handles_errors, out

user_app = typer.Typer(help="用户和访问令牌", no_args_is_help=True)
app.add_typer(user_app, name="user")


@user_app.command("add")
@handles_errors
def user_add(
    username: str,
    role: Annotated[str, typer.Option("--role", help="applicant 建设主体、city 设区市局、province 省局、expert 专家")],
    city: Annotated[str | None, typer.Option("--city", help="设区市局用户的设区市，如 南京市")] = None,
    name: Annotated[str, typer.Option("--name", help="显示名称")] = "",
    password: Annotated[str | None, typer.Option("--password", help="不给则交互输入")] = None,
) -> None:
    """新增用户（密码以Argon2id哈希保存）。"""
    from zonegeo.services.auth import add_user

    password = password or typer.prompt("密码", hide_input=True, confirmation_prompt=True)
    with _session() as session:
        add_user(session=session, username=username, password=password, role=role, city=city, display_name=name)
    out.print(f"已新增用户 {username}（{role}）")


@user_app.command("list")
@handles_errors
def user_list(as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """列出用户。"""
    from zonegeo.services.auth import list_users

    with _session() as session:
        rows = list_users(session=session)
    if as_json:
        _dump(rows)
        return
    for r in rows:
        out.print(f"{r['username']}\t{r['role']}\t{r['city'] or ''}\t{'启用' if r['active'] else '已停用'}")


@user_app.command("token")
@handles_errors
def user_token(username: str, label: Annotated[str, typer.Option("--label")] = "") -> None:
    """为用户生成API访问令牌（只显示这一次，库中只存哈希）。"""
    from zonegeo.services.auth import create_token

    with _session() as session:
        token = create_token(session=session, username=username, label=label)
    typer.echo(token)


@user_app.command("revoke")
@handles_errors
def user_revoke(username: str) -> None:
    """停用用户并撤销其全部访问令牌。"""
    from zonegeo.services.auth import revoke

    with _session() as session:
        n = revoke(session=session, username=username)
    out.print(f"已停用 {username}，撤销令牌{n}个")


@user_app.command("assign")
@handles_errors
def user_assign(username: str, code: str,
                relation: Annotated[str, typer.Option("--as", help="applicant（本集聚区建设主体）或 expert（评审专家）")]
                = "applicant") -> None:
    """把用户关联到集聚区：建设主体（可编辑本集聚区）或评审专家（只读并提交意见）。"""
    from zonegeo.services.access import add_member

    with _session() as session:
        add_member(session=session, code=code, username=username, relation_=relation)
    out.print(f"已将 {username} 作为 {relation} 关联到 {code}")
