"""The zonegeo command line (typer): a thin shell over the services. Exit 0 ok, 1 rules fail, 2 bad input."""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import orjson
import typer
from rich.console import Console

from zonegeo.config import Settings
from zonegeo.console import print_report, print_zones
from zonegeo.errors import ZonegeoError

app = typer.Typer(help="zonegeo：江苏省知识产权服务业集聚发展区空间登记系统", no_args_is_help=True,
                  pretty_exceptions_enable=False, add_completion=False)
db_app = typer.Typer(help="数据库管理", no_args_is_help=True)
app.add_typer(db_app, name="db")
user_app = typer.Typer(help="用户和访问令牌", no_args_is_help=True)
app.add_typer(user_app, name="user")
out = Console()
err = Console(stderr=True)


@functools.cache
def settings() -> Settings:
    return Settings()


def _dump(data: Any) -> None:
    typer.echo(orjson.dumps(data, option=orjson.OPT_INDENT_2 | orjson.OPT_NON_STR_KEYS).decode())


def handles_errors(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Turn our errors into a Chinese message on stderr and exit code 2 — never a traceback."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except ZonegeoError as exc:
            err.print(f"[red]错误[/red]（{exc.code}）：{exc}", highlight=False)
            for finding in exc.detail.get("findings", [])[1:]:
                err.print(f"  - {finding['message']}", highlight=False)
            raise typer.Exit(2) from None

    return wrapper


@functools.cache
def _uow():
    from zonegeo.services.unit_of_work import UnitOfWork

    return UnitOfWork.from_settings(settings())


def _session():
    """One unit of work per command: everything it stores is committed together, or nothing is."""
    return _uow()()


def _rules():
    from zonegeo.domain.rules import load_rules

    return load_rules(settings().rules_file)


def _calendar():
    from zonegeo.domain.workdays import WorkCalendar

    return WorkCalendar.from_folder(settings().holidays_dir)


def _date(text: str | None, option: str) -> dt.date | None:
    if text is None:
        return None
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise ZonegeoError("bad_date", f"{option}的日期“{text}”格式不正确，应为YYYY-MM-DD", {"option": option}) from None


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
    from zonegeo.services.checking import check_read

    files = {role: path for role, path in (("boundary", boundary), ("core", core), ("buildings", buildings),
                                           ("institutions", institutions)) if path is not None}
    read = read_plan(files, parse_role_options(crs), layers=parse_role_options(layer, what="layer"), repair=repair)
    report = check_read(read, rules=_rules())
    if map_out is not None:
        from zonegeo.services.mapping import write_check_map

        write_check_map(read=read, report=report, title=files["boundary"].name, out=map_out, tiles=settings().tiles)
    if as_json:
        _dump(report.to_dict())
    else:
        print_report(report, out)
    raise typer.Exit(0 if report.eligible else 1)


@app.command("import")
@handles_errors
def import_(folder: Annotated[Path, typer.Argument(help="集聚区文件夹（zone.toml 及 boundary.* 等文件）")]) -> None:
    """导入集聚区文件夹到数据库（空间布局为新版本，机构同步准入/退出）。"""
    from zonegeo.services.zones import import_zone

    with err.status("正在读取并导入…"), _session() as session:
        result = import_zone(session=session, folder=folder, rules=_rules(), calendar=_calendar())
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


@app.command()
@handles_errors
def zones(as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """列出数据库中的集聚区。"""
    from zonegeo.services.zones import list_zones

    with _session() as session:
        rows = list_zones(session=session)
    _dump(rows) if as_json else print_zones(rows, out)


@app.command()
@handles_errors
def report(code: str, as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """按数据库中的当前版本生成申报条件核验报告（与 check 相同）。"""
    from zonegeo.services.checking import zone_report

    with _session() as session:
        result = zone_report(session=session, code=code, rules=_rules())
    _dump(result.to_dict()) if as_json else print_report(result, out)
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


@app.command("set-published")
@handles_errors
def set_published_(code: str, off: Annotated[bool, typer.Option("--off", help="撤下公开")] = False) -> None:
    """设置集聚区是否在公开地图上公布（运行 publish 后生效）。"""
    from zonegeo.services.publishing import set_published

    with _session() as session:
        set_published(session=session, code=code, published=not off)
    out.print(f"集聚区 {code} 已{'撤下公开' if off else '设为公开'}；运行 zonegeo publish 更新公开网站")


@db_app.command("upgrade")
@handles_errors
def db_upgrade() -> None:
    """执行数据库迁移到最新版本（Alembic）。"""
    from zonegeo.services.unit_of_work import upgrade_schema

    upgrade_schema(settings().database_url)
    out.print("数据库已迁移到最新版本")


@app.command()
@handles_errors
def serve(
    host: Annotated[str | None, typer.Option()] = None,
    port: Annotated[int | None, typer.Option()] = None,
) -> None:
    """启动网页和API服务。"""
    import uvicorn

    from zonegeo.api.app import create_app

    uvicorn.run(create_app(settings()), host=host or settings().host, port=port or settings().port)


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
    result = _calendar().add_working_days(_date(start, "--from"), working_days)
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
    action: Annotated[str, typer.Argument(help="submit（提交）或 approve（批准）")],
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
    out.print(f"版本{number}已{'提交' if action == 'submit' else '批准'}")
    if result["change_event"]:
        out.print(f"[yellow]空间布局有实质变化，已登记变更事项，应于{result['change_event']['report_due']}前报告[/yellow]")


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


@app.command("due-list")
@handles_errors
def due_list(city: Annotated[str | None, typer.Option("--city", help="设区市，如 南京市")] = None,
             as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """全部集聚区的待办事项和截止日期（省局视角），逾期标出。"""
    from types import SimpleNamespace

    from zonegeo.services.lifecycle import worklist

    with _session() as session:
        rows = worklist(session=session, user=SimpleNamespace(role="province", city=None), today=dt.date.today(),
                        city=city, calendar=_calendar())
    if as_json:
        _dump(rows)
        return
    for r in rows:
        flag = "[red]已逾期[/red]" if r["overdue"] else f"还剩{r['days_left']}天"
        out.print(f"{r['due']}  {r['city']}  {r['zone_name']}  {r['what']}  {flag}")


deadlines_app = typer.Typer(help="截止日期", no_args_is_help=True)
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
