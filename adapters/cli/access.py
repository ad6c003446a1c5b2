"""CLI commands for API tokens: issue (the secret is printed once), list, revoke."""

from __future__ import annotations

import json
from typing import Any

import click

from budget_ledger.access import Role


def register(cli: click.Group, refusals_as_messages: Any) -> None:
    @cli.group("token")
    def token() -> None:
        """API tokens: who may use the API, as which role."""

    @token.command("issue")
    @click.option("--actor", required=True, help="Who the token acts as (a begeleider: the name their caseload is under).")
    @click.option("--role", type=click.Choice([r.value for r in Role]), required=True)
    @click.option("--label", default="", help="What the token is for.")
    @click.option("--as", "issuer", required=True, help="Who issues it (recorded).")
    @click.pass_obj
    @refusals_as_messages
    def issue(app: Any, actor: str, role: str, label: str, issuer: str) -> None:
        """Issue a token and print its secret, which is shown this once and stored only as a digest."""
        issued, secret = app.services.access.issue({"actor": actor, "role": role, "label": label}, issuer)
        click.echo(f"token {issued.id} for {issued.actor} ({issued.role.value}): {secret}")

    @token.command("list")
    @click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
    @click.pass_obj
    @refusals_as_messages
    def list_tokens(app: Any, fmt: str) -> None:
        """The tokens (never their secrets)."""
        tokens = app.services.access.tokens()
        if fmt == "json":
            click.echo(json.dumps([{"id": t.id, "actor": t.actor, "role": t.role.value, "label": t.label,
                                    "created_at": t.created_at.isoformat(),
                                    "revoked_at": t.revoked_at.isoformat() if t.revoked_at else None}
                                   for t in tokens], indent=2))
            return
        for t in tokens:
            state = f"ingetrokken {t.revoked_at:%Y-%m-%d}" if t.revoked_at else "geldig"
            click.echo(f"{t.id:>5} {t.role.value:<16} {t.actor:<30} {state} {t.label}")

    @token.command("revoke")
    @click.argument("token_id", type=click.IntRange(min=1))
    @click.option("--as", "actor", required=True, help="Who revokes it (recorded).")
    @click.pass_obj
    @refusals_as_messages
    def revoke(app: Any, token_id: int, actor: str) -> None:
        """Revoke a token: it stops working at once for new checks (within seconds for a running server)."""
        revoked = app.services.access.revoke(token_id, actor)
        click.echo(f"token {revoked.id} ingetrokken door {revoked.revoked_by}")
