"""services/xlsx.py: the one .xlsx writer, read back with openpyxl as a user's reader would."""

from __future__ import annotations

import datetime as dt
import io
import zipfile

import openpyxl
import pytest

from zonegeo.errors import InputError
from zonegeo.services.xlsx import MAX_WIDTH, MIN_WIDTH, Sheet, display_width, measured_widths, workbook


def load(data: bytes) -> openpyxl.Workbook:
    return openpyxl.load_workbook(io.BytesIO(data))


def test_headers_rows_types_and_a_frozen_bold_header():
    day = dt.date(2026, 3, 31)
    data = workbook([Sheet("集聚区", ["代码", "名称", "面积（平方米）", "日期", "通过"],
                           [["NJ-01", "南京<河西>&园", 12345.678, day, True], ["SZ-02", "苏州", 7, None, False]])])
    ws = load(data)["集聚区"]
    assert [c.value for c in ws[1]] == ["代码", "名称", "面积（平方米）", "日期", "通过"]
    assert all(c.font.b for c in ws[1]) and not ws["A2"].font.b
    assert ws.freeze_panes == "A2"
    assert ws["B2"].value == "南京<河西>&园" and ws["C2"].value == pytest.approx(12345.678)
    assert ws["D2"].value.date() == day and ws["D2"].number_format == "yyyy-mm-dd"
    assert ws["E2"].value is True and ws["D3"].value is None and ws["C3"].value == 7


def test_text_that_looks_like_a_formula_stays_text():
    data = workbook([Sheet("机构", ["名称"], [["=HYPERLINK(\"http://x\",\"y\")"], ["=1+1"], ["+86"]])])
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        sheet = zf.read("xl/worksheets/sheet1.xml").decode()
    assert "<f>" not in sheet
    ws = load(data).active
    assert ws["A2"].value == "=HYPERLINK(\"http://x\",\"y\")" and ws["A2"].data_type == "s"
    assert ws["A3"].data_type == "s"


def test_control_characters_are_dropped_and_long_text_cut_at_excels_limit():
    ws = load(workbook([Sheet("a", ["x"], [["甲\x00乙\x07丙"], ["长" * 40_000]])])).active
    assert ws["A2"].value == "甲乙丙" and len(ws["A3"].value) == 32_767


def test_widths_count_cjk_double_and_stay_in_bounds():
    assert display_width("名称") == 4 and display_width("ab") == 2 and display_width("第一行\n长的第二行") == 10
    assert display_width(None) == 0 and display_width(dt.date(2026, 1, 1)) == 10
    widths = measured_widths(["代码", "名称"], [["A", "江苏省知识产权服务业集聚发展区"], ["B"]])
    assert widths == [MIN_WIDTH, 15 * 2 + 2]
    assert measured_widths(["x"], [["y" * 500]]) == [MAX_WIDTH]
    ws = load(workbook([Sheet("a", ["代码", "名称"], [["A", "江苏省知识产权服务业集聚发展区"]])])).active
    assert ws.column_dimensions["B"].width == 32 and ws.column_dimensions["A"].width == MIN_WIDTH
    given = load(workbook([Sheet("a", ["x", "y"], [], widths=[11, 22])])).active
    assert (given.column_dimensions["A"].width, given.column_dimensions["B"].width) == (11, 22)


def test_caption_lines_merge_and_a_notes_sheet_comes_last():
    data = workbook([Sheet("四至", ["点号", "X", "Y"], [["J1", 1.0, 2.0]], caption=[["界址点坐标表"], ["坐标系：CGCS2000"]],
                           merged=["A1:C1"])], notes=["1. 第一条", "2. 第二条"])
    wb = load(data)
    assert wb.sheetnames == ["四至", "说明"]
    ws = wb["四至"]
    assert ws["A1"].value == "界址点坐标表" and ws["A1"].font.sz == 14 and "A1:C1" in ws.merged_cells
    assert [c.value for c in ws[3]] == ["点号", "X", "Y"] and ws.freeze_panes == "A4" and ws["A4"].value == "J1"
    notes = wb["说明"]
    assert [r[0] for r in notes.iter_rows(values_only=True)] == ["说明", "1. 第一条", "2. 第二条"]
    assert notes.freeze_panes is None
    named = load(workbook([Sheet("a", ["x"])], notes=["n"], notes_title="填写说明"))
    assert named.sheetnames == ["a", "填写说明"]


def test_an_empty_sheet_has_only_its_header():
    ws = load(workbook([Sheet("空", ["代码", "名称"])])).active
    assert list(ws.iter_rows(values_only=True)) == [("代码", "名称")]


@pytest.mark.parametrize(("sheets", "code"), [
    ([], "xlsx_no_sheets"),
    ([Sheet("", ["x"])], "xlsx_bad_sheet_title"),
    ([Sheet("a" * 32, ["x"])], "xlsx_bad_sheet_title"),
    ([Sheet("a/b", ["x"])], "xlsx_bad_sheet_title"),
    ([Sheet("同名", ["x"]), Sheet("同名", ["y"])], "xlsx_duplicate_sheet"),
])
def test_bad_workbooks_are_refused_in_chinese(sheets, code):
    with pytest.raises(InputError) as e:
        workbook(sheets)
    assert e.value.code == code and "工作" in e.value.message


def test_a_title_of_exactly_31_characters_is_kept():
    assert load(workbook([Sheet("表" * 31, ["x"])])).sheetnames == ["表" * 31]
