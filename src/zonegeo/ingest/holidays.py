"""Reading the holiday files (data/holidays/YYYY.toml, the State Council's arrangement for a year that
``chinesecalendar`` does not know yet) into a :class:`~zonegeo.domain.workdays.WorkCalendar`."""

from __future__ import annotations

import tomllib
from pathlib import Path

from zonegeo.domain.workdays import WorkCalendar, YearArrangement
from zonegeo.errors import ConfigError


def load_arrangements(folder: Path) -> dict[int, YearArrangement]:
    """Every ``*.toml`` in ``folder`` by year; a file that cannot be read is a configuration error naming it."""
    found: dict[int, YearArrangement] = {}
    for path in sorted(Path(folder).glob("*.toml")):
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise ConfigError("holiday_file_invalid", f"节假日文件格式错误：{path.name}（{exc}）",
                              {"file": str(path)}) from exc
        arrangement = YearArrangement.from_dict(data, file=str(path))
        found[arrangement.year] = arrangement
    return found


def load_calendar(folder: Path | None) -> WorkCalendar:
    """The working-day calendar with the holiday files of ``folder`` (none when it is not given or absent)."""
    return WorkCalendar(load_arrangements(folder) if folder and Path(folder).is_dir() else {})
