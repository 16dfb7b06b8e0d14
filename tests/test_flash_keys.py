"""Every one-time message a page's form leaves in the session is one the error handler drops when the request fails
after all (a refused COMMIT): no page may say "stored" for what was not."""

from __future__ import annotations

import importlib
import pkgutil

import zonegeo.api.routes as routes
from zonegeo.api.errors import FLASH_KEYS


def test_every_route_modules_session_message_is_dropped_on_failure():
    found = {}
    for info in pkgutil.iter_modules(routes.__path__):
        module = importlib.import_module(f"zonegeo.api.routes.{info.name}")
        for name in ("FLASH", "RECEIPT_KEY"):
            if isinstance(getattr(module, name, None), str):
                found[f"{info.name}.{name}"] = getattr(module, name)
    assert len(found) >= 5, found
    assert {k: v for k, v in found.items() if v not in FLASH_KEYS} == {}
