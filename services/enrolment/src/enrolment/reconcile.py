"""Reconcile enrolments with the payment provider: `python -m enrolment.reconcile`.

A webhook the provider could not deliver (an outage longer than its retries, a
misconfigured secret) leaves an enrolment behind the truth: paid but still pending,
expired but still holding its seat, refunded but still confirmed. This command asks the
provider for the state of every checkout session started in the last days and applies
what it says through the same monotonic rules as the webhooks, so running it twice, or
while webhooks arrive, changes nothing more. It uses the service's settings
(`ENROLMENT_*`, `DATABASE_URL`) and the configured provider.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Annotated
from uuid import UUID

import typer
from rich.console import Console
from rich.table import Table

from credstack.clock import now as clock_now
from credstack.db import create_engine
from enrolment import repository
from enrolment.main import payment_flows
from enrolment.payments import ProviderError, notices_from_state
from enrolment.settings import Settings
from enrolment.usecases.payment_flows import PaymentFlows
from enrolment.usecases.payments import Outcome, apply_payment_notice


@dataclass(frozen=True)
class Repair:
    enrolment_id: UUID
    session_id: str
    before: str
    after: str


@dataclass(frozen=True)
class Reconciliation:
    checked: int
    repairs: list[Repair]
    unreachable: list[UUID]


async def reconcile(
    flows: PaymentFlows, *, since: datetime, now: datetime, dry_run: bool = False
) -> Reconciliation:
    """Compare each enrolment whose checkout started since `since` with the provider and
    repair the differences (or, with `dry_run`, only report them)."""
    async with flows.engine.connect() as conn:
        candidates = await repository.started_checkouts(conn, since=since)
    repairs: list[Repair] = []
    unreachable: list[UUID] = []
    for candidate in candidates:
        try:
            state = await flows.provider.checkout_state(candidate.checkout_session_id)
        except ProviderError:
            unreachable.append(candidate.enrolment_id)
            continue
        async with flows.engine.connect() as conn:
            transaction = await conn.begin()
            outcomes = [
                await apply_payment_notice(
                    conn,
                    candidate.enrolment_id,
                    notice,
                    provider=flows.provider.name,
                    policy=flows.policy,
                    now=now,
                )
                for notice in notices_from_state(state, candidate.enrolment_id)
            ]
            await (transaction.rollback() if dry_run else transaction.commit())
        changes = [outcome for outcome in outcomes if outcome != Outcome.NO_CHANGE]
        if changes:
            repairs.append(
                Repair(
                    enrolment_id=candidate.enrolment_id,
                    session_id=candidate.checkout_session_id,
                    before=f"{candidate.status.value}, payment {candidate.payment_status.value}",
                    after=changes[-1],
                )
            )
    return Reconciliation(checked=len(candidates), repairs=repairs, unreachable=unreachable)


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
    if result.unreachable:
        console.print(
            f"[yellow]the provider could not be asked about {len(result.unreachable)}: "
            f"{', '.join(map(str, result.unreachable))}[/yellow]"
        )
        raise typer.Exit(1)


if __name__ == "__main__":
    app()
