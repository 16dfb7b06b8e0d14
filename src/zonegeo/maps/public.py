"""The public site: a province-wide map of published zones, its Chinese index and 公告 pages, and the folder they
are written to (atomic writes, and a manifest of what each file was made from)."""

from __future__ import annotations

import fcntl
import hashlib
import html
import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, cast

import folium
import orjson
import shapely
from branca.element import Element, Figure

from zonegeo.maps import page
from zonegeo.maps.basemaps import add_base_layers
from zonegeo.maps.overlays import Overlay, PageScript, feature
from zonegeo.maps.render import ZoneMap

PROVINCE = "江苏省知识产权服务业集聚发展区"


def province_map(zones: list[dict[str, Any]], *, tiles: str, asset_base: str, tianditu_key: str = "") -> folium.Map:
    """Every published zone's boundary, with its public facts and a link to its own page."""
    if zones:
        west, south, east, north = shapely.union_all([z["boundary"] for z in zones]).bounds
    else:  # Jiangsu
        west, south, east, north = 116.3, 30.7, 121.9, 35.2
    m = ZoneMap(location=[(south + north) / 2, (west + east) / 2], tiles=None, control_scale=True, zoom_start=8,
                asset_base=asset_base, page_title=f"{PROVINCE} · 全省分布图", heading=f"{PROVINCE}全省分布图")
    gcj = add_base_layers(m, default=tiles, tianditu_key=tianditu_key)
    features = [feature(z["boundary"], {"n": z["name"], "c": z["city"], "b": z["builder"], "o": z["operator"],
                                        "a": f"{z['land_m2']:,.0f} 平方米", "href": f"zones/{z['code']}.html"}) for z in zones]
    if features:
        Overlay(features, name="已公布的集聚区", asset_base=asset_base, tooltip="n",
                fields=[["n", "名称"], ["c", "设区市"], ["b", "建设主体"], ["o", "运营管理单位"], ["a", "四至面积"]],
                style="function () { return {color: '#8c1c13', weight: 3, fillColor: '#d7301f', fillOpacity: 0.3}; }",
                ).add_to(m)
    folium.LayerControl(collapsed=True).add_to(m)
    PageScript(gcj).add_to(m)
    cast(Figure, m.get_root()).html.add_child(Element(page.title_panel(PROVINCE, f"已公布 {len(zones)} 个")))
    page.PageChrome().add_to(m)
    m.fit_bounds([[south, west], [north, east]], padding=(20, 20))
    return m


def index_page(zones: list[dict[str, Any]], generated: str) -> str:
    by_city: dict[str, list[dict[str, Any]]] = {}
    for z in sorted(zones, key=lambda z: (z["city"], z["code"])):
        by_city.setdefault(z["city"], []).append(z)
    items = "".join(
        f"<h2>{html.escape(city)}</h2><ul>" + "".join(
            f'<li><a href="zones/{html.escape(z["code"])}.html">{html.escape(z["name"])}</a>'
            f'<span class="note">　{html.escape(z["builder"])}　四至面积 {z["land_m2"]:,.0f} 平方米</span></li>'
            for z in rows) + "</ul>"
        for city, rows in by_city.items()) or "<p>目前没有已公布的集聚区。</p>"
    return f"""<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>江苏省知识产权服务业集聚发展区（公开地图）</title>
<style>body{{margin:0;font:15px/1.6 "Noto Sans CJK SC","Microsoft YaHei",sans-serif;color:#222}}
header{{background:#8c1c13;color:#fff;padding:10px 16px}}header h1{{margin:0;font-size:17px}}
main{{max-width:1100px;margin:0 auto;padding:8px 16px}}
iframe{{width:100%;height:60vh;border:1px solid #ccc;border-radius:6px}}.note{{color:#666;font-size:13px}}</style></head>
<body><header><h1>江苏省知识产权服务业集聚发展区 · 公开地图</h1></header><main>
<iframe src="province.html" title="全省集聚区分布图"></iframe>
{items}
<p><a href="announcements.html">公告（批复、验收、绩效评价、取消称号）</a></p>
<p class="note">数据更新：{html.escape(generated)}。下载：<a href="zones.geojson">zones.geojson</a>（CGCS2000经纬度）。</p>
</main></body></html>
"""


def announcements_page(rows: list[dict[str, Any]], generated: str) -> str:
    """The 公告 of the static site (``services.announcements.announcements`` rows), newest first."""
    items = "".join(
        f'<li><strong>{html.escape(a["kind_label"])}</strong>　{a["on"]:%Y年%m月%d日}'
        + (f'（{html.escape(a["document_number"])}）' if a["document_number"] else "")
        + f'<br>{html.escape(a["zone_name"])}（{html.escape(a["city"])}）：{html.escape(a["text"])}'
        + ("<strong>（已取消称号）</strong>" if a["revoked"] else "") + "</li>"
        for a in rows) or "<li>暂无公告。</li>"
    return f"""<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>公告 · 江苏省知识产权服务业集聚发展区</title>
<style>body{{margin:0;font:15px/1.6 "Noto Sans CJK SC","Microsoft YaHei",sans-serif;color:#222}}
header{{background:#8c1c13;color:#fff;padding:10px 16px}}header h1{{margin:0;font-size:17px}}
main{{max-width:1100px;margin:0 auto;padding:8px 16px}}li{{margin:8px 0;overflow-wrap:anywhere}}
a{{display:inline-block;min-height:44px;line-height:44px}}.note{{color:#666;font-size:13px}}</style></head>
<body><header><h1>江苏省知识产权服务业集聚发展区 · 公告</h1></header><main>
<p><a href="index.html">返回公开地图</a></p>
<ul>{items}</ul>
<p class="note">数据更新：{html.escape(generated)}。</p>
</main></body></html>
"""


# ---- the site's folder: atomic writes and the manifest of what was written from which inputs -------------------

MANIFEST = ".publish-manifest.json"  # in the output folder; hashes and file stats only, nothing private
LOCK = ".publish.lock"
MANIFEST_FORMAT = 2


def write_atomic(path: Path, data: bytes) -> None:
    """Write ``path`` through a temporary file in the same folder renamed over it, so that a reader (a web server
    serving the folder) sees the old file or the new one, never half of one."""
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex[:8]}.tmp")
    try:
        with open(tmp, "wb") as fh:
            fh.write(data)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def file_stat(path: Path) -> list[int] | None:
    """(size, mtime in ns) of a file, or None when it is not there: what tells a file left as written from one
    changed, truncated or removed since (as make and rsync tell)."""
    try:
        st = path.stat()
    except OSError:
        return None
    return [st.st_size, st.st_mtime_ns]


class SiteFolder:
    """The output folder of ``zonegeo publish`` with its manifest: for each group of files (a zone's page and
    feature, the index pages, the 公告, the assets) the key of the inputs they were made from and the stat of each
    file as written (size, mtime, sha256). A group is current when its key is the same and its files are as they
    were written."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.groups: dict[str, dict[str, Any]] = {}
        self.notes: dict[str, Any] = {}
        self._load()

    def _load(self) -> None:
        self.groups, self.notes = {}, {}
        root = self.root
        try:
            stored = orjson.loads((root / MANIFEST).read_bytes())
        except (OSError, orjson.JSONDecodeError):
            stored = {}  # none yet, or unreadable: everything is made again
        if isinstance(stored, dict) and stored.get("format") == MANIFEST_FORMAT:
            self.groups = dict(stored.get("groups") or {})
            self.notes = dict(stored.get("notes") or {})

    def current(self, group: str, key: str) -> bool:
        entry = self.groups.get(group)
        if not entry or entry.get("key") != key or not entry.get("files"):
            return False
        return all(file_stat(self.root / rel) == stat[:2] for rel, stat in entry["files"].items())

    def write(self, group: str, key: str, files: dict[str, bytes], **notes: str) -> None:
        """Write a group's files (paths relative to the folder), each atomically unless it is as written with the
        same content already, and record them under ``key`` (with ``notes`` about them, read back by ``note``)."""
        before = (self.groups.get(group) or {}).get("files") or {}
        stats = {}
        for rel, data in files.items():
            path, digest = self.root / rel, hashlib.sha256(data).hexdigest()
            old = before.get(rel)
            if old and old[2:] == [digest] and file_stat(path) == old[:2]:
                stats[rel] = old
                continue
            path.parent.mkdir(parents=True, exist_ok=True)
            write_atomic(path, data)
            stats[rel] = [*(file_stat(path) or []), digest]
        self.groups[group] = {"key": key, "files": stats, **notes}

    def note(self, group: str, name: str) -> str | None:
        return (self.groups.get(group) or {}).get(name)

    def forget(self, group: str) -> list[str]:
        """Remove a group's files and its record; returns the files removed."""
        removed = []
        root = self.root.resolve()
        for rel in (self.groups.pop(group, None) or {}).get("files", {}):
            path = self.root / rel
            if not path.resolve().is_relative_to(root):  # an edited manifest never removes a file elsewhere
                continue
            if path.is_file():
                path.unlink()
                removed.append(rel)
        return removed

    def save(self) -> None:
        """The manifest, written last: files written before a failure are made again at the next run."""
        write_atomic(self.root / MANIFEST, orjson.dumps({"format": MANIFEST_FORMAT, "groups": self.groups,
                                                         "notes": self.notes}, option=orjson.OPT_SORT_KEYS))

    @contextmanager
    def locked(self) -> Iterator[SiteFolder]:
        """One publisher at a time per folder (two runs at once would remove each other's files)."""
        self.root.mkdir(parents=True, exist_ok=True)
        with open(self.root / LOCK, "a+b") as fh:
            fcntl.flock(fh, fcntl.LOCK_EX)
            try:
                self._load()  # as the run before this one left it, now that it has finished
                yield self
            finally:
                fcntl.flock(fh, fcntl.LOCK_UN)


def asset_files(source: Path) -> dict[str, Path]:
    """The assets a published site needs (licences and notes stay in the source tree): relative path → file."""
    return {p.relative_to(source).as_posix(): p for p in sorted(source.rglob("*"))
            if p.is_file() and not p.name.startswith("LICENSE") and p.suffix != ".txt"}


def sync_assets(folder: SiteFolder, source: Path) -> bool:
    """Copy the Leaflet assets into ``assets/`` when they changed or a copy is missing or altered (each file
    atomically), and remove files the source no longer has. Returns whether anything was written."""
    files = asset_files(source)
    key = hashlib.sha256(orjson.dumps({rel: file_stat(p) for rel, p in files.items()})).hexdigest()
    if folder.current("assets", key):
        return False
    folder.write("assets", key, {f"assets/{rel}": p.read_bytes() for rel, p in files.items()})
    wanted = {f"assets/{rel}" for rel in files}
    for path in sorted((folder.root / "assets").rglob("*"), reverse=True):
        rel = path.relative_to(folder.root).as_posix()
        if path.is_file() and rel not in wanted:
            path.unlink()
        elif path.is_dir() and not any(path.iterdir()):
            path.rmdir()
    return True
