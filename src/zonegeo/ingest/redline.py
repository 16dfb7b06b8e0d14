"""Land-approval red-line coordinate files (用地红线坐标TXT) from the land bureau.

    [属性描述]  坐标系=2000国家大地坐标系, 几度分带=3, 投影类型=高斯克吕格, 计量单位=米, 带号=40, 精度=…
    [地块坐标]  per parcel a header 界址点数,地块面积(公顷),地块编号,地块名称,面,图幅号,地块用途,@
                then rows 点号,圈号,X,Y (X = northing, Y = easting; the ring number separates shell and holes)
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from pyproj import CRS

from zonegeo.domain.crs import gk3_epsg
from zonegeo.errors import InputError
from zonegeo.ingest.crs_resolve import CrsChoice, declared
from zonegeo.ingest.findings import Findings
from zonegeo.ingest.sniff import decode_text
from zonegeo.ingest.sources import Source
from zonegeo.ingest.tables import parse_float


@dataclass
class Parcel:
    number: str
    name: str
    declared_ha: float | None
    line: int = 0  # the parcel's header line
    rings: dict[str, list[tuple[float, float, int]]] = field(default_factory=dict)  # ring -> (easting, northing, line)


@dataclass
class RedLine:
    attributes: dict[str, str]
    parcels: list[Parcel]
    crs: CrsChoice | None
    encoding: str


def _datum(name: str) -> str | None:
    if "2000" in name or "cgcs" in name.lower():
        return "CGCS2000"
    if "80" in name or "西安" in name:
        return "Xian1980"
    if "54" in name or "北京" in name:
        return "Beijing1954"
    return None


def _crs(attrs: dict[str, str], sample_easting: float, file: str) -> CrsChoice | None:
    datum = _datum(attrs.get("坐标系", ""))
    zone_text = attrs.get("带号", "").strip()
    width = attrs.get("几度分带", "3").strip()
    if datum is None or not zone_text.isdigit():
        return None
    if width != "3":
        raise InputError("crs_not_supported", f"{file}：暂不支持{width}度分带坐标，请提供3度带坐标或指定坐标系",
                         {"file": file, "几度分带": width})
    zone = int(zone_text)
    if zone >= 60 and zone % 3 == 0:  # some files write the central meridian instead
        zone //= 3
    if not 25 <= zone <= 45:  # the 3-degree zones over China: 25 (75°E) to 45 (135°E)
        raise InputError("bad_zone_number", f"{file}：[属性描述]中的带号“{zone_text}”不是中国境内的3度带带号"
                         "（应为25–45，江苏为39–41；或中央经线75–135）", {"file": file, "带号": zone_text})
    epsg = gk3_epsg(zone, prefixed=sample_easting > 1e6, datum=datum)
    return declared(CRS.from_epsg(epsg), file=file)


_PREAMBLE_KEYS = ("坐标系", "带号", "中央经线", "几度分带")
_NUMBER_AFTER = {key: re.compile(key + r"\s*[=:：为]?\s*(?:第\s*)?(\d{2,3})") for key in ("带号", "中央经线")}


def preamble_attributes(lines: list[str]) -> dict[str, str]:
    """坐标系/带号/中央经线 declared in the lines above a 界址点成果表 (“坐标系：2000国家大地坐标系 3度带 中央经线120°”,
    “带号 40”), as the [属性描述] keys of a red-line TXT; 中央经线 stands for the zone number (zone = meridian / 3)."""
    attrs: dict[str, str] = {}
    for line in lines:
        for key in _PREAMBLE_KEYS:
            if key in line and key not in attrs:
                attrs[key] = re.split(r"[=:：]", line.split(key, 1)[1].strip(" \t=:："), maxsplit=1)[0].strip()
        for key, pattern in _NUMBER_AFTER.items():
            match = pattern.search(line)
            if match:
                attrs[key] = match.group(1)
        if "6度" in line:
            attrs["几度分带"] = "6"
    if not attrs.get("带号", "").isdigit() and attrs.get("中央经线", "").isdigit():
        attrs["带号"] = attrs["中央经线"]  # ``_crs`` reads a multiple of 3 above 60 as a central meridian
    if "坐标系" in attrs:
        attrs["坐标系"] = " ".join(line for line in lines if "坐标系" in line)
    return attrs


def declared_crs(lines: list[str], sample_easting: float, file: str) -> CrsChoice | None:
    """The CRS that the title rows of a coordinate table declare, read as a red-line TXT's [属性描述]."""
    return _crs(preamble_attributes(lines), sample_easting, file)


def read_redline(source: Source) -> RedLine:
    text, encoding = decode_text(source.path.read_bytes(), source.encoding)
    found = Findings(file=source.name, layer="地块坐标")
    attrs: dict[str, str] = {}
    parcels: list[Parcel] = []
    section = ""
    for line_no, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line:
            continue
        if line.startswith("[") and line.endswith("]"):
            section = line[1:-1]
            continue
        if section == "属性描述":
            key, _, value = line.partition("=")
            attrs[key.strip()] = value.strip()
            continue
        if section != "地块坐标":
            continue
        cells = [c.strip() for c in line.replace("，", ",").split(",")]
        if cells[-1] == "@":
            parcels.append(Parcel(number=cells[2] if len(cells) > 2 else str(len(parcels) + 1),
                                  name=cells[3] if len(cells) > 3 else "",
                                  declared_ha=parse_float(cells[1]) if len(cells) > 1 else None, line=line_no))
            continue
        if not parcels:
            found.add("redline_no_parcel_header", f"第{line_no}行：坐标行之前缺少地块说明行（以@结尾）", row=line_no)
            break
        x, y = (parse_float(cells[2]), parse_float(cells[3])) if len(cells) >= 4 else (None, None)
        if x is None or y is None:
            found.add("bad_coordinate", f"第{line_no}行的坐标“{line}”无法识别（应为 点号,圈号,X,Y）", row=line_no)
            continue
        parcels[-1].rings.setdefault(cells[1] or "1", []).append((y, x, line_no))
    if not parcels and not found.errors:
        found.add("empty_layer", "文件中没有[地块坐标]数据", row=0)
    for parcel in parcels:
        if not parcel.rings:
            found.add("redline_parcel_without_points", f"地块“{parcel.name or parcel.number}”（编号{parcel.number}）"
                      "没有坐标点", row=parcel.line, parcel=parcel.number)
    found.raise_if_any()
    sample = next(pt for p in parcels for ring in p.rings.values() for pt in ring)
    return RedLine(attrs, parcels, _crs(attrs, sample[0], source.name), encoding)
