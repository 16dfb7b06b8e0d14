"""Opening an input file safely: size and content checks, unpacking archives, choosing the layer for a role."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path

import pyogrio

from zonegeo.errors import InputError
from zonegeo.ingest.safety import DEFAULT_LIMITS, Limits, check_size, check_xml, safe_extract
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
                role: str = "") -> Source:
    """Check and, for archives, unpack ``path`` into ``workdir``; return what GDAL should open."""
    name = name or path.name
    if not path.is_file():
        raise InputError("file_not_found", f"找不到文件：{path}", {"file": str(path), "role": role})
    check_size(path, limits)
    fmt = sniff(path, name)
    source = Source(name=name, path=path, format=fmt, sha256=_sha256(path))
    if fmt == "kml":
        check_xml(path.read_bytes(), name)
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
    return source


def _choose_shp(shps: list[Path], name: str, role: str) -> Path:
    if len(shps) == 1:
        return shps[0]
    matches = [s for s in shps if s.stem.lower() in ROLE_ALIASES.get(role, ())]
    if len(matches) == 1:
        return matches[0]
    raise InputError("ambiguous_layer", f"{name}：压缩包内有多个Shapefile（{'、'.join(s.name for s in shps)}），"
                     f"请每个压缩包只放一个，或按用途命名（如 boundary.shp、建筑.shp）",
                     {"file": name, "layers": [s.name for s in shps], "role": role})


def layer_names(source: Source) -> list[str]:
    try:
        return [str(row[0]) for row in pyogrio.list_layers(source.path)]
    except Exception as exc:  # GDAL's own errors, translated at the edge
        raise InputError("unreadable_file", f"{source.name}：文件无法解析（{exc}）", {"file": source.name}) from exc


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
