"""Vector layers read with GDAL through pyogrio, brought to EPSG:4490 with their attribute rows."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyogrio
import shapely

from zonegeo.errors import InputError
from zonegeo.ingest import crs_resolve
from zonegeo.ingest.crs_resolve import CrsChoice
from zonegeo.ingest.sniff import ENCODING_LABELS
from zonegeo.ingest.sources import Source, choose_layers, gdal_reason

# GDAL reads closed DXF polylines as lines unless told; arcs (bulges) are densified every 1° so that their
# area is within 0.01 % of the true arc area (GDAL's default 4° step loses about 0.05 %).
_DXF_CONFIG = {"DXF_CLOSED_LINE_AS_POLYGON": "YES", "OGR_ARC_STEPSIZE": "1"}


@dataclass
class VectorLayer:
    """Features in EPSG:4490, their attribute rows and where each came from."""

    geometries: np.ndarray  # shapely geometries (object array)
    table: pd.DataFrame  # the attribute table, one row per geometry, index 0..n-1
    layers: list[str]  # the source layer of each feature (DXF layer, KML folder, GeoPackage table)
    crs: str
    warnings: list[dict[str, Any]] = field(default_factory=list)
    encoding: str | None = None


def _find_sibling(shp: Path, suffix: str) -> Path | None:
    for candidate in shp.parent.iterdir():
        if candidate.stem == shp.stem and candidate.suffix.lower() == suffix:
            return candidate
    return None


def shapefile_encoding(shp: Path, wanted: str | None = None) -> tuple[str | None, str]:
    """(encoding to force or None, how it was decided). GDAL reads a GBK .dbf with no .cpg and no code page
    byte (or with the byte that only says “ANSI”, the writer's system code page) as Latin-1 without a word:
    decode the raw field names and text values ourselves and keep the encoding under which they are text."""
    if wanted:
        return wanted, f"{ENCODING_LABELS.get(wanted, wanted)}（按指定）"
    cpg = _find_sibling(shp, ".cpg")
    if cpg is not None:
        return None, f"{cpg.read_text(errors='replace').strip()}（据.cpg文件）"
    dbf = _find_sibling(shp, ".dbf")
    if dbf is None:
        return None, "无属性表"
    with dbf.open("rb") as fh:
        head = fh.read(1 << 20)
    ldid = head[29] if len(head) > 29 else 0
    if ldid in _LDID_GBK:
        return None, "GBK（代码页936，据.dbf语言标识）"
    cells = _dbf_text_cells(head)
    if all(c.isascii() for c in cells):
        return None, "ASCII"
    for encoding, label in (("utf-8", "UTF-8（自动识别）"), ("gb18030", "GBK/GB18030（自动识别）")):
        if all(_is_text(c, encoding) for c in cells):
            return encoding, label
    return None, "未知（按GDAL默认读取）"


_LDID_GBK = (0x4D, 0x7A)  # code page 936 (GBK) in the .dbf language driver byte
_CJK_TEXT = re.compile(r"[\u0020-\u007e\u00b7\u2000-\u206f\u2460-\u24ff\u3000-\u303f\u3400-\u4dbf"
                       r"\u4e00-\u9fff\uf900-\ufaff\uff00-\uffef]*")


def _dbf_text_cells(head: bytes) -> list[bytes]:
    """The field names and the text (C) values of the records in ``head``, as raw bytes."""
    if len(head) < 32:
        return []
    header_len = int.from_bytes(head[8:10], "little")
    record_len = int.from_bytes(head[10:12], "little")
    fields, offset = [], 1  # each record starts with its deletion flag
    cells = []
    for pos in range(32, min(header_len, len(head)) - 31, 32):
        if head[pos] == 0x0D:
            break
        descriptor = head[pos : pos + 32]
        cells.append(descriptor[:11].split(b"\0", 1)[0])
        size = descriptor[16]
        if descriptor[11:12] == b"C":
            fields.append((offset, size))
        offset += size
    if record_len <= 0:
        return cells
    for start in range(header_len, len(head) - record_len + 1, record_len):
        record = head[start : start + record_len]
        cells.extend(record[a : a + n].rstrip(b" \0") for a, n in fields)
    return [c for c in cells if c]


def _is_text(cell: bytes, encoding: str) -> bool:
    """Whether ``cell`` decodes under ``encoding`` to Chinese text; a character cut at the end of a field
    (a .dbf name is at most 10 bytes) is forgiven."""
    try:
        text = cell.decode(encoding)
    except UnicodeDecodeError as exc:
        if exc.start < len(cell) - 3 or exc.reason != "unexpected end of data":
            return False
        text = cell[: exc.start].decode(encoding, errors="strict")
    return _CJK_TEXT.fullmatch(text) is not None


def dxf_encoding(path: Path) -> str:
    """R2007+ (AC1021+) DXF text is UTF-8 whatever $DWGCODEPAGE says; older files often hold GBK."""
    raw = path.read_bytes()
    match = re.search(rb"\$ACADVER\s*\r?\n\s*1\s*\r?\n\s*AC(\d{4})", raw[:20000])
    if match and int(match.group(1)) >= 1021:
        return "UTF-8"
    if raw.isascii():
        return "UTF-8"
    try:
        raw.decode("utf-8")
        return "UTF-8"
    except UnicodeDecodeError:
        return "CP936"


def _geojson_declares_crs(path: Path) -> bool:
    try:
        return "crs" in json.loads(path.read_bytes())
    except (ValueError, UnicodeDecodeError):
        return False


def _read(source: Source, layer: str | None, encoding: str | None) -> pd.DataFrame:
    kwargs: dict[str, Any] = {}
    if layer is not None:
        kwargs["layer"] = layer
    if source.format == "gpkg":
        kwargs["LIST_ALL_TABLES"] = "NO"  # GDAL lists only gpkg_contents, never views or other tables
    if encoding:
        kwargs["encoding"] = encoding
    try:
        return pyogrio.read_dataframe(source.path, **kwargs)
    except UnicodeDecodeError:
        # A .dbf field name is at most 10 bytes: a UTF-8 Chinese name gets cut inside a character, which
        # pyogrio cannot decode. Read the bytes as Latin-1 and decode them ourselves, dropping the cut tail.
        return _redecode(_read_latin1(source, layer), encoding or "utf-8")
    except Exception as exc:  # pyogrio/GDAL errors: translated here, at the edge where they arise
        if "closed linestring" in str(exc):
            raise _unclosed_ring(source, layer, encoding) from exc
        raise InputError("unreadable_file", f"{source.name}：文件无法解析（{gdal_reason(exc, source)}）",
                         {"file": source.name, "layer": layer or ""}) from exc


def _unclosed_ring(source: Source, layer: str | None, encoding: str | None) -> InputError:
    """Find the features whose rings do not end where they start; GDAL passes them on, shapely refuses them."""
    wkbs = pyogrio.raw.read(source.path, layer=layer, encoding=encoding)[2]  # (meta, fids, geometry, fields)
    findings = []
    for i, wkb in enumerate(wkbs, start=1):
        try:
            shapely.from_wkb(wkb)
        except shapely.errors.GEOSException:
            first = shapely.get_coordinates(shapely.from_wkb(wkb, on_invalid="fix"))[0]
            findings.append({"code": "unclosed_ring", "message": f"第{i}个要素的环未闭合（首尾点不一致）", "file": source.name,
                             "feature": i, "coordinate": [round(float(first[0]), 7), round(float(first[1]), 7)]})
    more = f"（共{len(findings)}个要素）" if len(findings) > 1 else ""
    where = findings[0]["message"] if findings else "有多边形的环未闭合"
    return InputError("unclosed_ring", f"{source.name}：{where}{more}；请在原软件中闭合后重新导出",
                      {"file": source.name, "layer": layer or "", "findings": findings})


def _read_latin1(source: Source, layer: str | None) -> pd.DataFrame:
    try:
        return pyogrio.read_dataframe(source.path, layer=layer, encoding="latin1")
    except Exception as exc:
        raise InputError("unreadable_file", f"{source.name}：文件无法解析（{gdal_reason(exc, source)}）",
                         {"file": source.name, "layer": layer or ""}) from exc


def _redecode(df: pd.DataFrame, encoding: str) -> pd.DataFrame:
    def fix(text: Any) -> Any:
        if not isinstance(text, str):
            return text
        return text.encode("latin1", errors="replace").decode(encoding, errors="ignore")

    names: list[str] = []
    for c in df.columns:  # names decoded under a wrong encoding may collide (or vanish): keep them distinct
        name = c if c == "geometry" else (fix(c) or f"field{len(names) + 1}")
        names.append(name if name not in names else f"{name}_{len(names) + 1}")
    df = df.set_axis(names, axis=1)
    for column in df.columns:
        if column != "geometry" and (df[column].dtype == object or pd.api.types.is_string_dtype(df[column])):
            df[column] = df[column].map(fix)
    return df


def read_frames(source: Source, *, role: str, layer: str | None) -> tuple[list[tuple[str, Any]], str | None]:
    """(layer name, GeoDataFrame) for each layer to read, and the attribute encoding used."""
    encoding, how = None, None
    if source.format in ("shapefile", "shapefile_zip"):
        encoding, how = shapefile_encoding(source.path, source.encoding)
    elif source.encoding and source.format == "dxf":
        how = "UTF-8" if source.encoding == "utf-8" else "CP936"
    if source.format == "dxf":
        how = how or dxf_encoding(source.path)
        pyogrio.set_gdal_config_options({**_DXF_CONFIG, "DXF_ENCODING": how})
    names = choose_layers(source, role, layer)
    wanted: list[str | None] = list(names) if names else [None]  # None: the file's only (or first) layer
    frames = [(name or source.path.stem, _read(source, name, encoding)) for name in wanted]
    return frames, how


def read_vector(source: Source, *, role: str, crs: str | None = None, layer: str | None = None) -> VectorLayer:
    frames, encoding = read_frames(source, role=role, layer=layer)
    file = source.name
    parts: list[np.ndarray] = []
    tables, layers = [], []
    for name, df in frames:
        parts.append(np.asarray(df.geometry.values, dtype=object))
        tables.append(pd.DataFrame(df.drop(columns="geometry")))
        if source.format == "dxf" and "Layer" in df.columns:
            layers.extend(df["Layer"].astype(str))
        else:
            layers.extend([name] * len(df))
    geoms = np.concatenate(parts) if parts else np.empty(0, dtype=object)
    table = pd.concat(tables, ignore_index=True) if len(tables) > 1 else tables[0].reset_index(drop=True)
    if not len(geoms):
        raise InputError("empty_layer", f"{file}：图层中没有要素", {"file": file, "role": role})
    limits = source.limits
    if len(geoms) > limits.max_features:
        raise InputError("too_many_features", f"{file}：图层“{layers[0]}”有{len(geoms)}个要素，超过上限{limits.max_features}个",
                         {"file": file, "role": role, "layer": layers[0], "features": len(geoms),
                          "limit": limits.max_features})
    geoms_arr = geoms
    warnings: list[dict[str, Any]] = []
    if shapely.has_z(geoms_arr[~shapely.is_missing(geoms_arr)]).any():
        geoms_arr = shapely.force_2d(geoms_arr)
        warnings.append({"code": "z_dropped", "message": f"{file}中的高程（Z）值已忽略",
                         "detail": {"file": file, "role": role}})
    counts = shapely.get_num_coordinates(geoms_arr)
    if int(counts.sum()) > limits.max_vertices:
        raise InputError("too_many_vertices", f"{file}：图层共有{int(counts.sum())}个顶点，超过上限{limits.max_vertices}个；"
                         "请简化后再上传", {"file": file, "role": role, "vertices": int(counts.sum()),
                                      "limit": limits.max_vertices})
    coords, owner = shapely.get_coordinates(geoms_arr, return_index=True)
    if len(coords) == 0:
        raise InputError("empty_layer", f"{file}：图层中没有坐标", {"file": file, "role": role})
    bad = ~np.isfinite(coords).all(axis=1) | (np.abs(coords) > 1e9).any(axis=1)
    if bad.any():
        k = int(np.flatnonzero(bad)[0])
        feature = int(owner[k]) + 1
        raise InputError("bad_coordinate", f"{file}：第{feature}个要素的坐标“{coords[k][0]:g}, {coords[k][1]:g}”"
                         "不是有效的数值（无穷大、非数字或超出任何坐标系的范围）",
                         {"file": file, "role": role, "feature": feature, "layer": layers[feature - 1]})
    choice = _choose_crs(source, frames[0][1].crs, coords, role=role, given=crs)
    warnings.extend(choice.warnings)
    if encoding and ("自动识别" in encoding or "按指定" in encoding):
        warnings.append({"code": "encoding_chosen", "message": f"{file}：属性表未声明文字编码，按{encoding}读取"
                         if "自动识别" in encoding else f"{file}：属性表按{encoding}读取",
                         "detail": {"file": file, "role": role, "encoding": encoding}})
    lon, lat = crs_resolve.to_storage(coords[:, 0], coords[:, 1], choice)
    crs_resolve.check_in_jiangsu(lon, lat, file=file, role=role, crs=choice.label)
    # The array is this function's own (np.concatenate made it): its geometries are replaced in place, each read
    # geometry freed as its reprojected one takes its place once the frames are let go.
    del frames, parts, geoms, coords, owner
    geoms_arr = shapely.set_coordinates(geoms_arr, np.column_stack([lon, lat]))
    return VectorLayer(geoms_arr, table, layers, choice.label, warnings, encoding)


def _choose_crs(source: Source, frame_crs: Any, coords: np.ndarray, *, role: str, given: str | None) -> CrsChoice:
    if given:
        return crs_resolve.parse_crs(given, file=source.name, role=role)
    trusted = frame_crs is not None and (source.format != "geojson" or _geojson_declares_crs(source.path))
    if trusted:
        return crs_resolve.declared(frame_crs, file=source.name)
    # CAD drawings are never in lon/lat: small numbers there are local drawing units, not degrees.
    return crs_resolve.infer(coords[:, 0], coords[:, 1], file=source.name, role=role,
                             lonlat_possible=source.format != "dxf")
