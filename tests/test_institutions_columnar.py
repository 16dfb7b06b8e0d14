"""Institution tables read column by column (issue #15): the same cells, row numbers, errors and warnings as the
row-by-row csv reader, for the edges the column-wise path brings (empty cells, duplicated headers, mixed types in a
column, short and wide rows, a bad row deep in a large table)."""

from __future__ import annotations

import csv
import gc
from pathlib import Path

import numpy as np
import openpyxl
import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from zonegeo.domain.model import ChainLink, InstitutionKind
from zonegeo.errors import InputError
from zonegeo.ingest import tables
from zonegeo.ingest.role_files import ReadOptions, read_role
from zonegeo.ingest.safety import Limits
from zonegeo.ingest.sources import Source

HEADER = "名称,统一社会信用代码,类型,链条环节,服务类型,经度,纬度,楼栋,楼层"


def _row(k: int, *, lon: str = "118.78", lat: str = "32.04", kind: str = "", chain: str = "创造") -> str:
    return f"机构{k},91320105MA1XXXXX{k % 10}X,{kind},{chain},代理,{lon},{lat},{k % 3 + 1}号楼,{k % 20 + 1}"


def _csv(tmp_path: Path, lines: list[str], name: str = "institutions.csv", encoding: str = "utf-8") -> Path:
    path = tmp_path / name
    path.write_bytes(("\n".join(lines) + "\n").encode(encoding))
    return path


def _read(path: Path, **limits: int):
    return read_role(path, "institutions", options=ReadOptions(limits=Limits(**limits)))


def _reference(source: Source, text: str, dialect) -> list[list[str]] | InputError:
    try:
        return tables._csv_rows(source, text, dialect)
    except InputError as exc:
        return exc


# Cells built from the characters that make CSV hard: separators, quotes, line ends, blanks, a full-width comma.
_TEXTS = st.text(alphabet=list('ab名,;"\t\n\r \u3000，0.5'), max_size=120)


def _same_rows_or_none(source: Source, text: str) -> None:
    """The column reader's rows are the csv module's (padded), or it leaves the text to the csv module."""
    for dialect in (csv.excel, csv.excel_tab):
        expected = _reference(source, text, dialect)
        try:
            grid = tables._csv_grid(source, text, dialect, None)
        except InputError:  # the fast reader never refuses a file itself: the csv module names the problem
            pytest.fail("the column reader raised")
        if grid is None:
            continue
        assert not isinstance(expected, InputError), f"the csv module refuses {text!r}: {expected.message}"
        width = max((len(r) for r in expected), default=0)
        assert grid.count == len(expected)
        assert grid.head == expected[: tables.HEADER_SEARCH_ROWS]
        assert [[str(c[r]) for c in grid.columns] for r in range(grid.count)] == \
            [r + [""] * (width - len(r)) for r in expected]


@pytest.mark.slow
@hypothesis_settings(max_examples=300, deadline=None, derandomize=True, database=None,
                     suppress_health_check=[HealthCheck.too_slow])
@given(text=_TEXTS)
def test_the_column_reader_gives_the_csv_modules_rows_or_steps_aside(text):
    _same_rows_or_none(Source(name="t.csv", path=Path("t.csv"), format="csv", sha256="",
                              limits=Limits(max_rows=5, max_cell_chars=30)), text)


@pytest.mark.parametrize("text", [
    "a,b\n1,2\n", "t\na,b,c\n1,2\n", "a,b\n\n1,2\n\n", "a,b\r\n1,2\r\n\r\n", "a,b\r1,2\r", 'a,b\n"x\ny",2\n',
    'a,b\n"ab"c,d\n', 'a,b\nx"y,2\n', 'a,b\n"open,2\n', "a,b\n1,2,3\n", "a,b\n \n\u3000,2", 'a,""\n"",1\n',
    'a,b\n"x""y",1\n', "a\tb\n1\t2\n", "名称，经度\n甲，1\n", "a,b\n" + "1,2\n" * 6, "a,b\n" + "x" * 31 + ",1\n",
    "a,b\n1,2\x00\n", "", "\n\n", ",\n,,\n"])
def test_tricky_texts_give_the_csv_modules_rows(text):
    _same_rows_or_none(Source(name="t.csv", path=Path("t.csv"), format="csv", sha256="",
                              limits=Limits(max_rows=5, max_cell_chars=30)), text)


def test_a_file_the_sniffer_reads_as_without_doubled_quotes_is_read_by_the_csv_module_where_it_matters():
    dialect = csv.Sniffer().sniff('a,b\n"x",1\n')
    assert not dialect.doublequote
    source = Source(name="t.csv", path=Path("t.csv"), format="csv", sha256="")
    text = 'a,b\n"x""y",1\n'
    assert tables._csv_grid(source, text, dialect, None) is None  # x"y" by csv, x"y by pandas
    assert tables._csv_rows(source, text, dialect) == [["a", "b"], ['x"y"', "1"]]


def test_empty_cells_give_the_defaults(tmp_path):
    path = _csv(tmp_path, [HEADER, "甲,,,,,118.78,32.04,,", "乙,  ,  ,  ,  ,118.78,32.04,  ,  "])
    read = _read(path)
    assert [i.name for i in read.value] == ["甲", "乙"]
    for inst in read.value:
        assert (inst.credit_code, inst.kind, inst.kind_label, inst.chain, inst.chain_other, inst.services,
                inst.building, inst.floor) == ("", InstitutionKind.INSTITUTION, "", (), (), (), "", "")
    assert read.warnings == [w for w in read.warnings if w["code"] == "crs_assumed"]


def test_a_duplicated_header_reads_its_first_column(tmp_path):
    path = _csv(tmp_path, ["名称,名称,经度,纬度,经度", "甲,乙,118.78,32.04,0", "丙,丁,118.79,32.05,0"])
    read = _read(path)
    assert [(i.name, i.lon, i.lat) for i in read.value] == [("甲", 118.78, 32.04), ("丙", 118.79, 32.05)]


def test_short_rows_blank_rows_and_a_title_keep_their_row_numbers(tmp_path):
    lines = ["某集聚区入驻机构名录", "", HEADER, _row(1), "", ",,,,,,,,", "机构2,,,,,118.78,32.04", _row(3)]
    read = _read(_csv(tmp_path, lines))
    assert [r["row"] for r in read.input["located"]] == [4, 7, 8]
    assert [i.name for i in read.value] == ["机构1", "机构2", "机构3"]


def test_a_row_wider_than_the_header_is_read_as_before(tmp_path):
    lines = [HEADER, *(_row(k) for k in range(1, 40)), _row(40) + ",多余,多余"]
    read = _read(_csv(tmp_path, lines))
    assert len(read.value) == 40 and read.input["located"][-1]["row"] == 41


def test_a_bad_row_deep_in_a_large_table_is_named_with_its_row(tmp_path):
    lines = [HEADER, *(_row(k) for k in range(1, 5001))]
    lines[4321] = _row(4321, lon="东经118度")
    lines[4700] = _row(4700, kind="知识产权信息公共服务网点", chain="全链条")
    with pytest.raises(InputError) as e:
        _read(_csv(tmp_path, lines))
    (finding,) = e.value.detail["findings"]
    assert (finding["code"], finding["row"]) == ("bad_coordinate", 4322)
    assert e.value.message == "institutions.csv：第4322行（机构4321）的经纬度“东经118度, 32.04”无法识别"


def test_unknown_kinds_and_chain_links_are_warned_about_row_by_row_in_order(tmp_path):
    lines = [HEADER, *(_row(k) for k in range(1, 3001))]
    lines[2500] = _row(2500, kind="知识产权信息公共服务网点", chain="全链条")
    lines[100] = _row(100, kind="专利代理事务所")
    read = _read(_csv(tmp_path, lines))
    noted = [(w["code"], w["detail"]["row"]) for w in read.warnings if w["code"].startswith("unknown_")]
    assert noted == [("unknown_kind", 101), ("unknown_kind", 2501), ("unknown_chain", 2501)]
    by_name = {i.name: i for i in read.value}
    assert by_name["机构2500"].kind is InstitutionKind.OTHER_PLATFORM
    assert by_name["机构2500"].kind_label == "知识产权信息公共服务网点"
    assert by_name["机构2500"].chain_other == ("全链条",)
    assert by_name["机构100"].kind is InstitutionKind.INSTITUTION and by_name["机构100"].kind_label == ""
    assert by_name["机构7"].chain == (ChainLink.CREATION,)


def test_a_long_cell_after_a_multi_line_cell_is_named_by_its_line(tmp_path):
    lines = [HEADER, _row(1), '"机构\n二",,,,,118.78,32.04', _row(3), "x" * 51 + ",,,,,118.78,32.04"]
    with pytest.raises(InputError) as e:
        _read(_csv(tmp_path, lines), max_cell_chars=50)
    assert e.value.code == "cell_too_long"
    assert e.value.detail["row"] == 6 and e.value.detail["column"] == 1  # the 5th record starts on line 6


def test_the_row_bound_is_checked_before_the_rows_are_read(tmp_path):
    lines = [HEADER, *(_row(k) for k in range(1, 102))]
    with pytest.raises(InputError) as e:
        _read(_csv(tmp_path, lines), max_rows=100)
    assert e.value.code == "too_many_rows"
    assert len(_read(_csv(tmp_path, lines[:-1]), max_rows=100).value) == 100


def test_gbk_and_utf16_tables_read_like_utf8(tmp_path):
    lines = [HEADER, _row(1), _row(2, kind="知识产权保护中心")]
    reads = [_read(_csv(tmp_path, lines, f"i_{enc}.csv", enc)) for enc in ("utf-8-sig", "gb18030")]
    utf16 = tmp_path / "i_utf16.csv"
    utf16.write_bytes(("\r\n".join(line.replace(",", "\t") for line in lines) + "\r\n").encode("utf-16"))
    reads.append(_read(utf16))
    assert reads[0].value == reads[1].value == reads[2].value
    assert [r.input["encoding"] for r in reads] == ["UTF-8", "GBK/GB18030", "UTF-16"]


def test_mixed_types_in_an_xlsx_column_are_read_as_their_text(tmp_path):
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["名称", "经度", "纬度", "楼层", "统一社会信用代码"])
    sheet.append(["甲", 118.78, 32.04, 3, "91320105MA1XXXXX1X"])
    sheet.append(["乙", "118.79", "32.05", "三层", None])
    sheet.append([None, None, None, None, None])
    sheet.append(["丙", 118.8, 32.06, 4.5, 913201050000])
    path = tmp_path / "institutions.xlsx"
    book.save(path)
    read = _read(path)
    assert [(i.name, i.lon, i.lat, i.floor, i.credit_code) for i in read.value] == [
        ("甲", 118.78, 32.04, "3", "91320105MA1XXXXX1X"), ("乙", 118.79, 32.05, "三层", ""),
        ("丙", 118.8, 32.06, "4.5", "913201050000")]
    assert [r["row"] for r in read.input["located"]] == [2, 3, 5]


def test_a_long_xlsx_cell_is_named_by_row_and_column(tmp_path):
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["名称", "经度", "纬度", "地址"])
    sheet.append(["甲", 118.78, 32.04, "某路"])
    sheet.append(["乙", 118.78, 32.04, "路" * 61])
    sheet.append(["丙" * 61, 118.78, 32.04, "某路"])
    path = tmp_path / "institutions.xlsx"
    book.save(path)
    with pytest.raises(InputError) as e:
        _read(path, max_cell_chars=60)
    assert (e.value.code, e.value.detail["row"], e.value.detail["column"]) == ("cell_too_long", 3, 4)


@pytest.mark.parametrize("cell", ["118.78", " 32 ", "1,234.5", "", "abc", "1_0", "１２", "inf", "-inf", "nan",
                                  "1e9", "-999999999.5", "+7", "0x10"])
def test_numbers_are_read_as_one_cell_at_a_time_would(cell):
    plain = tables.parse_floats(np.array(["1.5", cell.strip()], dtype=object))
    expected = tables.parse_float(cell)
    assert plain[0] == 1.5
    assert (np.isnan(plain[1]) and expected is None) or plain[1] == expected


def test_garbage_collection_is_left_as_it_was(tmp_path):
    path = _csv(tmp_path, [HEADER, _row(1)])
    assert gc.isenabled()
    _read(path)
    assert gc.isenabled()
    gc.disable()
    try:
        _read(path)
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_the_point_table_reader_still_gives_rows(tmp_path):
    path = tmp_path / "points.csv"
    path.write_text("界址点成果表\n点号,X,Y\nJ1,3545000,40375000\nJ2,3545000,40375300\n", encoding="utf-8")
    source = Source(name="points.csv", path=path, format="csv", sha256="")
    table = tables.read_point_table(source, role="boundary")
    assert table.rows == [{"point": "J1", "x": "3545000", "y": "40375000"},
                          {"point": "J2", "x": "3545000", "y": "40375300"}]
    assert table.row_numbers == [3, 4] and table.preamble == ["界址点成果表"]
