"""Text fields of the app's HTML forms: one type for every route, so that a rule on form text holds everywhere.

The input guard (api/input_guard.py) refuses NUL characters in JSON and url-encoded bodies; multipart bodies
carry files, which may hold any byte, so their text fields are checked here, field by field. PostgreSQL cannot
store NUL in text: without this check such a field would fail at flush, after the work was done."""

from __future__ import annotations

from typing import Annotated

from fastapi import Form
from pydantic import AfterValidator


def no_nul(value: str) -> str:
    if "\x00" in value:
        raise ValueError("不能含有空字符（NUL，\\x00）")
    return value


FormText = Annotated[str, Form(), AfterValidator(no_nul)]
