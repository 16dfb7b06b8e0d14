"""The page layout every document shares: the bureau's heading, the zone and date, page numbers “第 X 页 共 Y 页”,
sections, tables and the signature/seal block (经办人、审核人、（盖章）、日期)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import cast

from fpdf import FPDF
from fpdf.enums import MethodReturnValue, TableHeadingsDisplay, WrapMode
from fpdf.fonts import FontFace

from zonegeo.pdf import fonts

FAMILY = "cjk"
BUREAU = "江苏省知识产权局"
PAGES = "{nb}"  # replaced by the page count when the document is written
MARGIN_MM = 18.0
RED = (178, 34, 34)  # the bureau's heading, as on a 红头 document
GREY = (90, 90, 90)
HEADING_FILL = (235, 238, 242)
NO_LINE_START = "，。、；：？！）》」』”’%"  # closing punctuation never begins a line


class Document(FPDF):
    """An A4 document of the bureau about one zone."""

    def __init__(self, *, font: fonts.PdfFont, title: str, zone_name: str, zone_code: str, dated: dt.date) -> None:
        super().__init__(orientation="P", unit="mm", format="A4")
        self.doc_title, self.zone_name, self.zone_code, self.dated = title, zone_name, zone_code, dated
        try:
            self.add_font(FAMILY, fname=str(font.path), collection_font_number=font.collection_number)
        except Exception as exc:  # fontTools and fpdf raise many kinds for a file that is not a usable font
            raise fonts.unusable(font, f"{type(exc).__name__}: {exc}") from None
        cmap = getattr(self.fonts[FAMILY], "cmap", {})
        missing = [ch for ch in fonts.PROBE if ord(ch) not in cmap]
        if missing:
            raise fonts.unusable(font, f"字体中没有汉字“{''.join(missing)}”")
        self.set_margins(MARGIN_MM, MARGIN_MM, MARGIN_MM)
        self.set_auto_page_break(True, margin=20)
        self.alias_nb_pages(PAGES)
        self.set_title(f"{title}：{zone_name}（{zone_code}）")
        self.set_author(BUREAU)
        self.set_creator("zonegeo")
        self.set_lang("zh-CN")
        self.set_font(FAMILY, size=10.5)
        self.add_page()

    # ---- every page ----------------------------------------------------------------------------------------

    def header(self) -> None:
        self.set_text_color(*RED)
        if self.page_no() == 1:
            self.set_font(FAMILY, size=20)
            self.cell(0, 11, BUREAU, align="C", new_x="LMARGIN", new_y="NEXT")
            self.set_draw_color(*RED)
            self.set_line_width(0.6)
            self.line(MARGIN_MM, self.get_y() + 1, self.w - MARGIN_MM, self.get_y() + 1)
            self.ln(4)
            self.set_text_color(0, 0, 0)
            self.set_font(FAMILY, size=16)
            self.cell(0, 10, self.doc_title, align="C", new_x="LMARGIN", new_y="NEXT")
            self.set_font(FAMILY, size=10.5)
            self.cell(0, 7, f"集聚区：{self.zone_name}（编号 {self.zone_code}）", new_x="LMARGIN", new_y="NEXT")
            self.cell(0, 7, f"日期：{self.dated:%Y年%m月%d日}", new_x="LMARGIN", new_y="NEXT")
            self.ln(2)
        else:
            self.set_font(FAMILY, size=9)
            self.cell(0, 6, f"{BUREAU} · {self.doc_title} · {self.zone_name}（{self.zone_code}）",
                      new_x="LMARGIN", new_y="NEXT")
            self.set_draw_color(*RED)
            self.set_line_width(0.3)
            self.line(MARGIN_MM, self.get_y(), self.w - MARGIN_MM, self.get_y())
            self.ln(3)
        self.set_text_color(0, 0, 0)
        self.set_draw_color(0, 0, 0)
        self.set_line_width(0.2)
        self.set_font(FAMILY, size=10.5)

    def footer(self) -> None:
        self.set_y(-14)
        self.set_font(FAMILY, size=9)
        self.set_text_color(*GREY)
        self.cell(0, 6, f"第 {self.page_no()} 页 共 {PAGES} 页", align="C")
        self.set_text_color(0, 0, 0)

    # ---- blocks --------------------------------------------------------------------------------------------

    def section(self, title: str) -> None:
        if self.will_page_break(20):
            self.add_page()
        self.ln(2)
        self.set_font(FAMILY, size=13)
        self.cell(0, 8, title, new_x="LMARGIN", new_y="NEXT")
        self.set_font(FAMILY, size=10.5)

    def para(self, text: str, *, size: float = 10.5, color: tuple[int, int, int] = (0, 0, 0)) -> None:
        """A paragraph wrapped at any character, with no line starting with closing punctuation (避头点: it hangs
        at the end of the line before, as Chinese typesetting does)."""
        self.set_font(FAMILY, size=size)
        self.set_text_color(*color)
        wrapped = self.multi_cell(self.epw, size * 0.55, text, wrapmode=WrapMode.CHAR, dry_run=True,
                                  output=MethodReturnValue.LINES)
        lines: list[str] = []
        for line in cast(list[str], wrapped):
            while lines and line and line[0] in NO_LINE_START:
                lines[-1], line = lines[-1] + line[0], line[1:]
            lines.append(line)
        for line in lines:
            self.cell(0, size * 0.55, line, new_x="LMARGIN", new_y="NEXT")
        self.set_text_color(0, 0, 0)
        self.set_font(FAMILY, size=10.5)

    def fields(self, pairs: Sequence[tuple[str, str]]) -> None:
        """Label–value rows (基本信息)."""
        self.grid(None, [list(p) for p in pairs], (38, self.epw - 38))

    def grid(self, headings: Sequence[str] | None, rows: Sequence[Sequence[str]], widths: Sequence[float],
             *, size: float = 9.5) -> None:
        """A table whose heading row repeats on every page it runs onto; long cells wrap at any character."""
        self.set_font(FAMILY, size=size)
        heading_style = FontFace(fill_color=HEADING_FILL)
        with self.table(col_widths=tuple(widths), width=sum(widths), wrapmode=WrapMode.CHAR, line_height=size * 0.5,
                        first_row_as_headings=headings is not None, headings_style=heading_style,
                        repeat_headings=TableHeadingsDisplay.ON_TOP_OF_EVERY_PAGE, text_align="LEFT",
                        padding=1) as table:
            for row in ([list(headings)] if headings is not None else []) + [list(r) for r in rows]:
                cells = table.row()
                for value in row:
                    cells.cell(str(value))
        self.set_font(FAMILY, size=10.5)
        self.ln(2)

    def signatures(self, roles: Sequence[str] = ("经办人", "审核人")) -> None:
        """The signature and seal block, kept whole on one page."""
        row, seal = 12.0, 36.0
        height = max(row * (len(roles) + 1), seal) + 6
        if self.will_page_break(height):
            self.add_page()
        self.ln(4)
        top = self.get_y()
        self.set_font(FAMILY, size=11)
        for role in roles:
            self.cell(24, row, f"{role}：")
            y = self.get_y() + row - 2
            self.line(self.get_x(), y, self.get_x() + 55, y)
            self.ln(row)
        self.cell(24, row, "日期：")
        self.cell(60, row, "        年      月      日")
        seal_x, seal_w = self.w - MARGIN_MM - 50, 50
        self.set_draw_color(*GREY)
        self.set_dash_pattern(dash=1.5, gap=1.2)
        self.rect(seal_x, top, seal_w, seal)
        self.set_dash_pattern()
        self.set_draw_color(0, 0, 0)
        self.set_xy(seal_x, top + seal / 2 - 5)
        self.set_text_color(*GREY)
        self.cell(seal_w, 10, "（盖章）", align="C")
        self.set_text_color(0, 0, 0)
        self.set_xy(MARGIN_MM, top + height)
        self.set_font(FAMILY, size=10.5)

    def render(self) -> bytes:
        return bytes(self.output())
