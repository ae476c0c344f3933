"""Reconcile enrolments with the payment provider: `python -m enrolment.reconcile`.

The same reconciliation as `POST /admin/payments/reconcile` (which `credstack reconcile`
calls), from the command line: see `enrolment.usecases.reconciliation`. It uses the
service's settings (`ENROLMENT_*`, `DATABASE_URL`) and the configured provider.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from credstack.clock import now as clock_now
from credstack.db import create_engine
from enrolment.main import payment_flows
from enrolment.settings import Settings
from enrolment.usecases.reconciliation import Reconciliation, Repair, reconcile

__all__ = ["Reconciliation", "Repair", "app", "reconcile"]

app = typer.Typer(add_completion=False)


@app.command()
def main(
    since_days: Annotated[
        int, typer.Option(min=1, help="Check checkouts started in the last N days")
    ] = 14,
    dry_run: Annotated[bool, typer.Option(help="Report the differences; change nothing")] = False,
) -> None:
    """Compare enrolments with the payment provider and repair what lost webhooks left."""
    settings = Settings()

    async def run() -> Reconciliation:
        engine = create_engine(settings.database_url, settings.schema_name)
        try:
            at = clock_now()
            return await reconcile(
                payment_flows(settings, engine),
                since=at - timedelta(days=since_days),
                now=at,
                dry_run=dry_run,
            )
        finally:
            await engine.dispose()

    result = asyncio.run(run())
    console = Console()
    table = Table("enrolment", "checkout session", "was", "now" if not dry_run else "would be")
    for repair in result.repairs:
        table.add_row(str(repair.enrolment_id), repair.session_id, repair.before, repair.after)
    verb = "would repair" if dry_run else "repaired"
    console.print(f"checked {result.checked} enrolment(s); {verb} {len(result.repairs)}")
    if result.repairs:
        console.print(table)
    for found in result.disagreements:
        console.print(
            f"[yellow]{found.enrolment_id}: {found.here} here, but the provider says "
            f"{found.provider} (for staff)[/yellow]"
        )
    if result.unreachable:
        console.print(
            f"[yellow]the provider could not be asked about {len(result.unreachable)}: "
            f"{', '.join(map(str, result.unreachable))}[/yellow]"
        )
        raise typer.Exit(1)


if __name__ == "__main__":
    app()
