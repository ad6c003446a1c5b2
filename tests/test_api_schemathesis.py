"""schemathesis against the published OpenAPI document: generated requests to every operation, as a
budgetbeheerder (who may call everything), must never produce a 5xx or a response that breaks the spec.

The book holds S1 (household 1) so that generated ids sometimes exist. Every operation gets
`MAX_EXAMPLES` generated cases (hypothesis, derandomized so CI is repeatable); the failures of all
operations are collected and reported together."""

from __future__ import annotations

import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import content_type_conformance, response_schema_conformance

from budget_ledger.access import Role
from budget_ledger.adapters.http.app import create_app

MAX_EXAMPLES = 25
CHECKS = [not_a_server_error, response_schema_conformance, content_type_conformance]


def test_no_generated_request_makes_the_api_fail_or_break_its_own_spec(database, services):
    from test_payment_runs import add_s1

    add_s1(services)
    app = create_app(database.settings, database=database, services=services)
    _, secret = services.access.issue({"actor": "beheerder.schemathesis", "role": Role.BUDGETBEHEERDER}, "test")
    headers = {"Authorization": f"Bearer {secret}"}
    schema = schemathesis.openapi.from_asgi("/schema/openapi.json", app)
    failures: list[str] = []
    operations = 0
    for result in schema.get_all_operations():
        operation = result.ok()
        operations += 1

        @given(case=operation.as_strategy())
        @settings(max_examples=MAX_EXAMPLES, deadline=None, derandomize=True, database=None,
                  suppress_health_check=list(HealthCheck))
        def run(case) -> None:
            case.call_and_validate(headers=headers, checks=CHECKS)

        try:
            run()
        except Exception as exc:  # collected: one operation's failure must not hide another's
            failures.append(f"{operation.label}: {str(exc).splitlines()[0] if str(exc) else type(exc).__name__}\n"
                            f"{str(exc)[:1500]}")
    assert operations > 3
    assert not failures, f"{len(failures)} of {operations} operations failed:\n\n" + "\n\n".join(failures)
