"""`zonegeo integrity`: the registry checked across zones (overlapping boundaries, one institution in two zones,
institutions at one point under different codes, platforms registered twice), as JSON; exit 1 when something is
found."""

from __future__ import annotations

from zonegeo.cli import _dump, _session, app, handles_errors, settings


@app.command("integrity")
@handles_errors
def integrity_check() -> None:
    """跨集聚区核查（JSON）：范围重叠、同一机构登记于两个集聚区、不同机构同一位置、公共服务平台重复登记。发现问题退出码1。"""
    import typer

    from zonegeo.services import integrity

    cities = integrity.configured_cities(settings().city_boundaries)
    with _session() as session:
        found = integrity.findings(session, cities=cities)
    _dump(integrity.summary(found, cities_checked=cities is not None) | {"findings": found})
    if found:
        raise typer.Exit(1)
