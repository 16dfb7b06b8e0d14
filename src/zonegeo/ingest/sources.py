"""Opening an input file safely: size and content checks, unpacking archives, choosing the layer for a role."""

from __future__ import annotations

import hashlib
import re
import sqlite3
from dataclasses import dataclass, field
from pathlib import Path

import pyogrio

from zonegeo.errors import InputError
from zonegeo.ingest.safety import DEFAULT_LIMITS, Limits, check_size, check_xlsx, check_xml, safe_extract
from zonegeo.ingest.sniff import FORMAT_LABELS, sniff

# Layer names that identify a role inside a multi-layer file (GeoPackage, KML folders, DXF layers, zip).
ROLE_ALIASES = {
    "boundary": ("boundary", "四至", "四至范围", "边界", "红线", "用地红线", "范围"),
    "core": ("core", "核心区", "核心区范围"),
    "buildings": ("buildings", "building", "建筑", "建筑物", "楼栋", "载体"),
    "institutions": ("institutions", "institution", "机构", "服务机构", "入驻机构"),
}


@dataclass
class Source:
    """One input file as it arrived (``name``) and the file GDAL opens (``path``, unpacked if archived)."""

    name: str
    path: Path
    format: str
    sha256: str
    notes: list[str] = field(default_factory=list)
    limits: Limits = DEFAULT_LIMITS
    encoding: str | None = None  # the user's choice of text encoding (a codec), None to detect it

    @property
    def label(self) -> str:
        return FORMAT_LABELS.get(self.format, self.format)


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        while chunk := fh.read(1 << 20):
            h.update(chunk)
    return h.hexdigest()


def open_source(path: Path, workdir: Path, *, limits: Limits = DEFAULT_LIMITS, name: str | None = None,
                role: str = "", encoding: str | None = None) -> Source:
    """Check and, for archives, unpack ``path`` into ``workdir``; return what GDAL should open."""
    name = name or path.name
    if not path.is_file():
        raise InputError("file_not_found", f"找不到文件：{name}", {"file": name, "role": role})
    check_size(path, limits)
    fmt = sniff(path, name)
    source = Source(name=name, path=path, format=fmt, sha256=_sha256(path), limits=limits, encoding=encoding)
    if fmt == "kml":
        check_xml(path.read_bytes(), name)
    elif fmt == "xlsx":
        check_xlsx(path, name, limits)
    elif fmt == "gpkg":
        geopackage_tables(source)  # refused here, before GDAL opens it, if it is not a plain GeoPackage
    elif fmt in ("shapefile_zip", "kmz"):
        files = safe_extract(path, workdir, limits)
        wanted = ".shp" if fmt == "shapefile_zip" else ".kml"
        inner = [f for f in files if f.suffix.lower() == wanted and not f.name.startswith("._")]
        if fmt == "kmz":
            for f in inner:
                check_xml(f.read_bytes(), f"{name}/{f.name}")
            inner.sort(key=lambda f: (f.name.lower() != "doc.kml", len(f.parts)))
            source.path = inner[0]
        else:
            source.path = _choose_shp(inner, name, role)
    if source.format in ("shapefile", "shapefile_zip"):
        _check_shapefile_parts(source, role)
    return source


_SHAPEFILE_PARTS = {".shx": "索引文件", ".dbf": "属性表"}


def _check_shapefile_parts(source: Source, role: str) -> None:
    """A Shapefile needs its .shx and .dbf beside the .shp; GDAL's own complaint names a server path in English."""
    shp = source.path
    present = {p.suffix.lower() for p in shp.parent.iterdir() if p.stem == shp.stem}
    missing = [suffix for suffix in _SHAPEFILE_PARTS if suffix not in present]
    if missing:
        parts = "、".join(f"{shp.stem}{s}（{_SHAPEFILE_PARTS[s]}）" for s in missing)
        where = "压缩包内" if source.format == "shapefile_zip" else "上传的文件中"
        raise InputError("shapefile_part_missing", f"{source.name}：{where}缺少 {parts}；Shapefile至少需要同名的"
                         ".shp、.shx、.dbf三个文件，请一并打包后重新上传",
                         {"file": source.name, "role": role, "missing": [f"{shp.stem}{s}" for s in missing]})


def _choose_shp(shps: list[Path], name: str, role: str) -> Path:
    if len(shps) == 1:
        return shps[0]
    matches = [s for s in shps if s.stem.lower() in ROLE_ALIASES.get(role, ())]
    if len(matches) == 1:
        return matches[0]
    raise InputError("ambiguous_layer", f"{name}：压缩包内有多个Shapefile（{'、'.join(s.name for s in shps)}），"
                     f"请每个压缩包只放一个，或按用途命名（如 boundary.shp、建筑.shp）",
                     {"file": name, "layers": [s.name for s in shps], "role": role})


_PATH = re.compile(r"(?:[A-Za-z]:)?(?:[\\/][^\\/\s:'\"]+)+[\\/]?")


def gdal_reason(exc: BaseException, source: Source) -> str:
    """A library's error text for a user: the server's paths replaced by the file's name (or left out)."""
    text = str(exc).replace(str(source.path), source.name)
    return _PATH.sub(lambda m: source.name if Path(m.group(0)).name == source.path.name else "…", text)[:300]


# A GeoPackage is an SQLite database: GDAL lists (and counts) every table and view in it. A view can be a
# recursive query that runs for minutes, so the layers are read from gpkg_contents first, with SQLite
# opened read-only and immutable, and only real tables named there are ever given to GDAL.
_GPKG_STEPS = 2_000_000  # SQLite VM steps for reading the catalogue (a plain one needs a few thousand)


def geopackage_tables(source: Source) -> list[str]:
    """The feature and attribute tables listed in gpkg_contents that are real tables (views are refused)."""
    name = source.name
    uri = source.path.resolve().as_uri() + "?mode=ro&immutable=1"
    try:
        conn = sqlite3.connect(uri, uri=True)
    except sqlite3.Error as exc:
        raise InputError("unreadable_file", f"{name}：GeoPackage无法打开", {"file": name}) from exc
    steps = [0]

    def budget() -> int:
        steps[0] += 1000
        return 1 if steps[0] > _GPKG_STEPS else 0

    conn.set_progress_handler(budget, 1000)
    try:
        listed = [str(r[0]) for r in conn.execute("SELECT table_name FROM gpkg_contents "
                                                  "WHERE data_type IN ('features', 'attributes')")]
        kinds = dict(conn.execute("SELECT name, type FROM sqlite_master WHERE type IN ('table', 'view')").fetchall())
    except sqlite3.Error as exc:
        raise InputError("unreadable_file", f"{name}：不是有效的GeoPackage（缺少gpkg_contents表）",
                         {"file": name}) from exc
    finally:
        conn.close()
    views = [t for t in listed if kinds.get(t) == "view"]
    if views:
        raise InputError("gpkg_view_refused", f"{name}：图层“{views[0]}”是视图（VIEW），出于安全原因只读取数据表；"
                         "请在GIS软件中将其导出为普通图层", {"file": name, "layer": views[0]})
    tables = [t for t in listed if kinds.get(t) == "table"]
    if not tables:
        raise InputError("empty_layer", f"{name}：GeoPackage中没有图层（gpkg_contents为空）", {"file": name})
    return tables


def layer_names(source: Source) -> list[str]:
    if source.format == "gpkg":
        return geopackage_tables(source)
    try:
        return [str(row[0]) for row in pyogrio.list_layers(source.path)]
    except Exception as exc:  # GDAL's own errors, translated at the edge
        raise InputError("unreadable_file", f"{source.name}：文件无法解析（{gdal_reason(exc, source)}）",
                         {"file": source.name}) from exc


def choose_layers(source: Source, role: str, wanted: str | None) -> list[str] | None:
    """The layers to read for ``role``: the one named by the user, the one named like the role, the only one,
    or (KML folders) all of them. ``None`` means the file's only/default layer."""
    if source.format in ("geojson", "shapefile", "shapefile_zip", "dxf", "csv", "redline_txt"):
        return None
    names = layer_names(source)
    if wanted:
        if wanted not in names:
            raise InputError("layer_not_found", f"{source.name}中没有名为“{wanted}”的图层；现有图层：{'、'.join(names)}",
                             {"file": source.name, "layer": wanted, "layers": names})
        return [wanted]
    by_alias = [n for n in names if n.strip().lower() in ROLE_ALIASES.get(role, ())]
    if by_alias:
        return by_alias[:1]
    if len(names) == 1:
        return names
    if source.format in ("kml", "kmz"):
        return names  # folders of one drawing: take the features of every folder
    raise InputError("ambiguous_layer",
                     f"{source.name}有多个图层（{'、'.join(names)}），无法判断哪个是{role}；请按用途命名图层"
                     f"（如 四至/boundary、核心区/core、建筑/buildings、机构/institutions）或指定图层",
                     {"file": source.name, "layers": names, "role": role})
