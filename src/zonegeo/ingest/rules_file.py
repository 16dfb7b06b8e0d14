"""Reading the rules file (data/rules/*.toml): bytes to a :class:`~zonegeo.domain.rules.RuleSet`."""

from __future__ import annotations

import tomllib
from pathlib import Path

from zonegeo.domain.rules import RuleSet
from zonegeo.errors import ConfigError


def load_rules(path: Path) -> RuleSet:
    """Read a rules file; a missing or malformed file is a configuration error naming the problem."""
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise ConfigError("rules_file_missing", "找不到规则文件", {"file": str(path)}) from exc
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError("rules_file_invalid", f"规则文件格式错误：{exc}", {"file": str(path)}) from exc
    return RuleSet.from_dict({"id": path.stem} | data, source=str(path))
