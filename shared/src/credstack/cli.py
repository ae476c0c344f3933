"""The `credstack` command: run the platform, mint dev tokens, drive the demo journey."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console

from credstack import devauth, devstack

app = typer.Typer(help="Credstack: university micro-credentials.", no_args_is_help=True)
console = Console()

DataDir = Annotated[
    Path, typer.Option(envvar="CREDSTACK_DATA_DIR", help="Where the dev stack keeps its data")
]


@app.command()
def up(
    data_dir: DataDir = Path(".data"),
    https: Annotated[
        bool,
        typer.Option(
            "--https",
            help="Serve the services over https with a local CA the stack generates (did:web "
            "and https status lists then resolve as in production); trust the CA it prints",
        ),
    ] = False,
) -> None:
    """Run the whole platform locally until Ctrl-C.

    Embedded PostgreSQL and Kafka-protocol broker unless DATABASE_URL /
    KAFKA_BOOTSTRAP_SERVERS name existing servers.
    """
    stack = devstack.Stack(
        data_dir=data_dir,
        database_url=os.environ.get("DATABASE_URL"),
        kafka_bootstrap_servers=os.environ.get("KAFKA_BOOTSTRAP_SERVERS"),
        https=https,
    )
    try:
        stack.start(on_step=lambda step: console.print(f"[dim]…[/dim] {step}"))
    except Exception:
        stack.stop()
        raise
    console.print("\n[bold green]Credstack is running[/bold green]")
    for service in devstack.SERVICES:
        url = stack.url(service)
        console.print(
            f"  {service:<11} {url}   OpenAPI: {url}/docs  ({url}/openapi.json)", soft_wrap=True
        )
    console.print(f"  {'tokens':<11} {stack.jwks_url}")
    console.print(f"  logs        {data_dir / 'logs'}")
    if https:
        console.print(
            f"  dev CA      {stack.tls.ca_cert}  (trust it, or run clients with "
            f"SSL_CERT_FILE={stack.trust_file})",
            soft_wrap=True,
        )
    console.print(
        f"\n[bold]Staff dashboard:[/bold] {stack.url('dashboard')}/  "
        "(Sign in with a dev token; it updates live)",
        soft_wrap=True,
    )
    console.print("Try [bold]./dev demo[/bold] in another terminal. Ctrl-C stops everything.")
    stack.run_forever()
    console.print("stopped")


@app.command()
def token(
    role: Annotated[str, typer.Option(help=f"One of: {', '.join(devauth.ROLE_SCOPES)}")],
    subject: Annotated[str | None, typer.Option(help="The token's subject")] = None,
    email: Annotated[
        str | None, typer.Option(help="An email the identity provider verified (learners)")
    ] = None,
    client_id: Annotated[
        str | None, typer.Option(help="For an LMS token: the registered LMS client it names")
    ] = None,
    data_dir: DataDir = Path(".data"),
) -> None:
    """Print a dev bearer token for ROLE, signed by the local token issuer."""
    claims: dict[str, Any] = {"email": email, "email_verified": True} if email else {}
    if client_id:
        claims["client_id"] = client_id
    try:
        print(devauth.mint(devauth.signing_key(data_dir), role=role, subject=subject, **claims))
    except ValueError as error:
        raise typer.BadParameter(str(error)) from error


@app.command()
def migrate() -> None:
    """Apply every service's migrations (a deploy step), each as
    <SERVICE>_MIGRATION_DATABASE_URL, else DATABASE_URL (the owner role, credstack_owner)."""
    from credstack import migrations

    for service in devstack.SERVICES:
        url = os.environ.get(f"{service.upper()}_MIGRATION_DATABASE_URL") or os.environ.get(
            "DATABASE_URL"
        )
        if not url:
            raise typer.BadParameter(
                f"set DATABASE_URL or {service.upper()}_MIGRATION_DATABASE_URL"
            )
        migrations.upgrade(url, service)
        console.print(f"{service}: migrated")


@app.command()
def reconcile(
    data_dir: DataDir = Path(".data"),
    dry_run: Annotated[bool, typer.Option(help="Report the differences; change nothing")] = False,
    payments: Annotated[
        bool, typer.Option(help="Also reconcile payments (python -m enrolment.reconcile)")
    ] = True,
) -> None:
    """Compare producers' records with consumers' through the services' APIs and repair
    by asking producers to re-announce; a no-op when all is consistent.

    Service URLs from <SERVICE>_URL (else the dev stack's); the bearer token from
    CREDSTACK_TOKEN (platform:operate + issuer:manage), else a dev staff token.
    """
    import subprocess
    import sys

    from credstack import reconcile as reconciler

    urls = {
        s: os.environ.get(f"{s.upper()}_URL", devstack.Stack(data_dir).url(s))
        for s in devstack.SERVICES
    }
    token = os.environ.get("CREDSTACK_TOKEN") or devauth.mint(
        devauth.signing_key(data_dir), role="staff", subject="reconciler"
    )
    report = reconciler.reconcile(urls, {"Authorization": f"Bearer {token}"}, dry_run=dry_run)
    checked = ", ".join(f"{n} {what}" for what, n in report.checked.items())
    console.print(f"checked {checked}")
    for finding in report.findings:
        action = finding.repair or ("would re-announce" if dry_run else "reported")
        console.print(f"  {finding.service} {finding.subject}: {finding.problem} → {action}")
    console.print(
        "consistent"
        if report.consistent
        else f"{len(report.findings)} finding(s), {report.repaired} repaired"
    )
    if payments:
        command = [sys.executable, "-m", "enrolment.reconcile"] + (["--dry-run"] if dry_run else [])
        subprocess.run(command, check=False)


@app.command()
def demo(
    data_dir: DataDir = Path(".data"),
    https: Annotated[
        bool, typer.Option("--https", help="The stack runs with `up --https`")
    ] = False,
) -> None:
    """Drive one learner's journey through the running stack, step by step."""
    from credstack.demo import Journey

    stack = devstack.Stack(data_dir, https=https)
    if https:
        os.environ.setdefault("SSL_CERT_FILE", str(stack.trust_file))
    urls = {s: os.environ.get(f"{s.upper()}_URL", stack.url(s)) for s in devstack.SERVICES}
    console.print(f"Watch each step appear on the staff dashboard: {urls['dashboard']}/\n")
    journey = Journey(
        urls=urls,
        signing_key=devauth.signing_key(data_dir),
        say=lambda line: console.print(line, soft_wrap=True),
    )
    result = journey.run()
    console.print(f"\n[bold green]Credential issued[/bold green] {result.credential_url}")
    console.print(f"grade → credential: {result.grade_to_credential_seconds:.2f} s")
    console.print(f"{len(result.messages)} messages to {result.email} in the notifier's mailbox")


@app.command()
def contracts(out: Path = Path("docs/events")) -> None:
    """Write the events' JSON Schemas and the AsyncAPI document for other teams."""
    import json

    from credstack.contracts import published

    out.mkdir(parents=True, exist_ok=True)
    for type_name, schema in published.json_schemas().items():
        (out / f"{type_name}.schema.json").write_text(json.dumps(schema, indent=2) + "\n")
    (out / "asyncapi.json").write_text(json.dumps(published.asyncapi(), indent=2) + "\n")
    console.print(f"wrote {out}")


def service_apps(data_dir: Path) -> dict[str, Any]:
    """Every service's app, built cheaply (dev stack settings; nothing is started)."""
    import importlib

    from credstack import devstack

    apps = {}
    for service in devstack.SERVICES:
        settings = importlib.import_module(f"{service}.settings").Settings(
            dev_stack=True, data_dir=data_dir
        )
        apps[service] = importlib.import_module(f"{service}.main").create_app(settings)
    return apps


@app.command("access-matrix")
def access_matrix(document: Path = Path("docs/security.md")) -> None:
    """Regenerate the access matrix (every route's declared rule) in docs/security.md."""
    import tempfile

    from credstack import access

    with tempfile.TemporaryDirectory() as data_dir:
        table = access.matrix(service_apps(Path(data_dir)))
    document.write_text(access.replace_section(document.read_text(), table))
    console.print(f"wrote the access matrix in {document}")
