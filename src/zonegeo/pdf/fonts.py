"""Which CJK font the PDFs embed: the configured file (ZONEGEO_PDF_FONT), else the first system font found."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from zonegeo.errors import ConfigError

# Fonts that ship with Debian/Ubuntu packages, in order of preference: 文泉驿微米黑 (fonts-wqy-microhei, Apache-2.0
# or GPLv3 with the font-embedding exception), Noto Sans CJK (fonts-noto-cjk, SIL OFL 1.1), 文泉驿正黑
# (fonts-wqy-zenhei, GPLv2 with the font exception). A .ttc holds several faces: the first (the proportional one).
SYSTEM_FONTS = (
    Path("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc"),
    Path("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc"),
    Path("/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc"),
)
SUFFIXES = (".ttf", ".ttc", ".otf", ".otc")
PROBE = "江苏省知识产权局第页共"  # characters every document prints: the font must have them
INSTALL_HINT = "请安装中文字体（Debian/Ubuntu：apt-get install fonts-wqy-microhei），或将 ZONEGEO_PDF_FONT 设为一个中文字体文件"


@dataclass(frozen=True)
class PdfFont:
    path: Path
    collection_number: int = 0  # the face inside a .ttc/.otc collection


def resolve(configured: str, fallbacks: tuple[Path, ...] = SYSTEM_FONTS) -> PdfFont:
    """The font to embed. A configured path is used as given (a missing one is an error, never silently
    replaced); with none configured, the first of ``fallbacks`` that exists."""
    text = (configured or "").strip()
    if text:
        path = Path(text).expanduser()
        if not path.is_file():
            raise ConfigError("pdf_font_missing", f"生成PDF所需的中文字体文件不存在：ZONEGEO_PDF_FONT={text}。{INSTALL_HINT}",
                              {"setting": "ZONEGEO_PDF_FONT", "path": text})
        if path.suffix.lower() not in SUFFIXES:
            raise ConfigError("pdf_font_unusable",
                              f"ZONEGEO_PDF_FONT={text} 不是 TrueType/OpenType 字体文件（应为{'、'.join(SUFFIXES)}）",
                              {"setting": "ZONEGEO_PDF_FONT", "path": text})
        return PdfFont(path)
    for path in fallbacks:
        if path.is_file():
            return PdfFont(path)
    raise ConfigError("pdf_font_missing", f"未找到生成PDF所需的中文字体。{INSTALL_HINT}",
                      {"setting": "ZONEGEO_PDF_FONT", "tried": [str(p) for p in fallbacks]})


def unusable(font: PdfFont, reason: str) -> ConfigError:
    """The error for a font file that exists but cannot be read or has no Chinese characters."""
    return ConfigError("pdf_font_unusable", f"字体文件“{font.path}”无法用于生成中文PDF：{reason}。{INSTALL_HINT}",
                       {"setting": "ZONEGEO_PDF_FONT", "path": str(font.path), "reason": reason})
