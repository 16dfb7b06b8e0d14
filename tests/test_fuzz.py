"""Schemathesis over the app's own /openapi.json, in-process (ASGI), with a token of every role: no request it
generates may get a 5xx. Runs on a database of its own (the fuzzer writes: zones, lifecycle actions, uploads), so
that the shared test database stays as the other tests expect it. Only "no 5xx" is checked (not_a_server_error),
not conformance of the responses to their documented models. Marked slow (about 50 s, ~3 000 requests)."""

from __future__ import annotations

import contextlib
import itertools
from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest
from sqlalchemy import create_engine

from tests.conftest import DEMO, PASSWORD, ROLE_USERS, throwaway_database
from zonegeo.api.app import create_app
from zonegeo.config import Settings
from zonegeo.db.session import session_factory, transaction

if TYPE_CHECKING:  # schemathesis and hypothesis are imported when the test runs, not at every worker's collection
    from schemathesis import GenerationMode

ROLES = ("public", *ROLE_USERS)
SENT = [0]
COVERAGE_CASES = 25  # boundary cases per operation, each sent as every role
EXAMPLES = 6  # random cases per operation and mode (positive, negative), each sent as every role


@pytest.fixture(scope="module")
def fuzz_database() -> Iterator[str]:
    with throwaway_database("zonegeo_fuzz") as url:
        yield url


@pytest.fixture(scope="module")
def fuzz_tokens(fuzz_database: str) -> dict[str, str]:
    from zonegeo.services import access, auth
    from zonegeo.services.zones import import_zone

    engine = create_engine(fuzz_database)
    out = {}
    with transaction(session_factory(engine)) as session:
        import_zone(session=session, folder=DEMO)
        for role, (username, city) in ROLE_USERS.items():
            auth.add_user(session=session, username=username, password=PASSWORD, role=role, city=city)
            out[role] = auth.create_token(session=session, username=username)
        access.add_member(session=session, code="NJ-DEMO-01", username="demo-applicant", relation_="applicant")
        access.add_member(session=session, code="NJ-DEMO-01", username="expert-wang", relation_="expert")
    engine.dispose()
    return out


@pytest.fixture(scope="module")
def fuzz_schema(fuzz_database: str, fuzz_tokens: dict[str, str]):
    import schemathesis

    app = create_app(Settings(_env_file=None, database_url=fuzz_database, tiles="", ingest_wall_seconds=10.0))
    return schemathesis.openapi.from_asgi("/openapi.json", app)


@pytest.fixture(scope="module")
def role_headers(fuzz_tokens: dict[str, str]) -> dict[str, dict[str, str]]:
    return {role: {"Authorization": f"Bearer {fuzz_tokens[role]}"} if role != "public" else {} for role in ROLES}


def _server_errors(operation, role_headers: dict[str, dict[str, str]], mode: GenerationMode) -> list[str]:
    """Hypothesis over one operation; each generated request is sent once as every role."""
    from hypothesis import HealthCheck, Phase, given
    from hypothesis import settings as hypothesis_settings
    from hypothesis.errors import Unsatisfiable
    from schemathesis.checks import not_a_server_error

    failures: list[str] = []

    @given(case=operation.as_strategy(generation_mode=mode))
    @hypothesis_settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
                         suppress_health_check=list(HealthCheck), phases=[Phase.explicit, Phase.generate])
    def run(case) -> None:
        SENT[0] += len(role_headers)
        for role, headers in role_headers.items():
            try:
                case.call_and_validate(headers=headers, checks=[not_a_server_error])
            except Exception as exc:  # collected, so that one run names every operation that fails
                failures.append(f"{operation.label} as {role} ({mode.value}): {str(exc)[:400]}")
                return

    with contextlib.suppress(Unsatisfiable):  # nothing to make invalid (no parameters, negative mode)
        run()
    return failures


def _coverage_errors(schema, operation, role_headers: dict[str, dict[str, str]]) -> list[str]:
    """Schemathesis's coverage phase: boundary values (min - 1, max + 1, empty, wrong types) of every parameter,
    deterministic, at most COVERAGE_CASES per operation."""
    from schemathesis import GenerationMode
    from schemathesis.checks import not_a_server_error

    config = schema.config.generation_for(operation=operation, phase="coverage")
    cases = schema.iter_coverage_cases(operation, generation_modes=[GenerationMode.POSITIVE, GenerationMode.NEGATIVE],
                                       generation_config=config)
    failures: list[str] = []
    for case in itertools.islice(cases, COVERAGE_CASES):
        for role, headers in role_headers.items():
            SENT[0] += 1
            try:
                case.call_and_validate(headers=headers, checks=[not_a_server_error])
            except Exception as exc:
                failures.append(f"{operation.label} as {role} (coverage): {str(exc)[:400]}")
                break
    return failures


# The pytest plugin of schemathesis 4.32 does not load lazily under pytest 9 ('Function' has no '_nodeid'):
# the operations are driven with Hypothesis directly, which is what the plugin does.
@pytest.mark.slow
def test_no_request_gets_a_server_error(fuzz_schema, role_headers):
    from schemathesis import GenerationMode

    failures: list[str] = []
    operations = [result.ok() for result in fuzz_schema.get_all_operations()]
    assert len(operations) >= 20
    for operation in operations:
        failures += _coverage_errors(fuzz_schema, operation, role_headers)
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            failures += _server_errors(operation, role_headers, mode)
    assert not failures, "\n".join(failures)
    assert SENT[0] > 500  # requests really sent
