"""A realistic demo catalogue for the dev stack: 20 micro-credentials in three series and
a suite, one taught in French, one language micro-credential, and offerings in the past,
running now and in the future (dates relative to today).

Loaded through the same use cases as staff actions, so its events reach every service.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any
from uuid import uuid4
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from catalogue import bulk, repository, tables, usecases
from catalogue.domain import OfferingPlan, Session, Stack
from catalogue.views import MicroCredentialDraft
from credstack.contracts.catalogue import CreditPathway, LearningOutcome
from credstack.locks import lock

LOADER = "demo-catalogue"
APPROVER = "demo-approver"


def _item(
    code: str, title: str, summary: str, field: str, outcomes: list[str], **extra: Any
) -> dict[str, Any]:
    return {
        "code": code,
        "title": title,
        "summary": summary,
        "description": f"{summary}. A graduate-level, assessed micro-credential taught intensively "
        "by university academics with experienced practitioners.",
        "learning_outcomes": [
            {"id": f"LO{n}", "description": text} for n, text in enumerate(outcomes, start=1)
        ],
        "field_of_study": field,
        "credit_points": "3.125",
        "notional_hours": "68",
        "contact_hours": "18",
        "assessment_description": "A workplace project report assessing every learning outcome.",
        "assessment_word_equivalent": 1250,
        "strategic_plan_alignment": "Lifelong learning that serves the nation's professions.",
        "convenor": extra.pop("convenor", "Dr Jordan Lee"),
        "fee_cents": extra.pop("fee_cents", 149500),
        "delivery_modes": extra.pop("delivery_modes", ["on-campus", "synchronous-online"]),
        "online_delivery_approval": "AQAC-2026-11",
        **extra,
    }


ITEMS = [
    _item(
        "MC-DA-01",
        "Data Foundations for Decision Makers",
        "Reason with data to make better decisions",
        "Information Technology",
        ["Frame a decision as a data question", "Judge the quality of evidence"],
    ),
    _item(
        "MC-DA-02",
        "Data Cleaning and Wrangling",
        "Prepare messy data for trustworthy analysis",
        "Information Technology",
        ["Profile a dataset", "Document cleaning decisions"],
        prerequisite_codes=["MC-DA-01"],
    ),
    _item(
        "MC-DA-03",
        "Visual Analytics and Storytelling",
        "Communicate insight with charts and narrative",
        "Information Technology",
        ["Choose an honest visual encoding", "Tell a data story to executives"],
    ),
    _item(
        "MC-DA-04",
        "Applied Machine Learning for Managers",
        "Commission and govern machine learning",
        "Information Technology",
        ["Scope a machine learning project", "Evaluate model risk"],
        expiry_months=36,
    ),
    _item(
        "MC-PP-01",
        "Evidence for Public Policy",
        "Find, weigh and use evidence in policy",
        "Society and Culture",
        ["Appraise research evidence", "Write an evidence brief"],
        fee_cents=129500,
    ),
    _item(
        "MC-PP-02",
        "Regulation and Governance",
        "Design regulation that works",
        "Society and Culture",
        ["Compare regulatory instruments", "Design a compliance strategy"],
        fee_cents=129500,
    ),
    _item(
        "MC-PP-03",
        "Policy Evaluation Methods",
        "Evaluate programs with rigour",
        "Society and Culture",
        ["Design an evaluation", "Interpret causal evidence"],
        fee_cents=129500,
    ),
    _item(
        "MC-PP-04",
        "Negotiation in the Public Sector",
        "Negotiate across agencies and sectors",
        "Society and Culture",
        ["Prepare a negotiation", "Manage multi-party negotiation"],
        fee_cents=129500,
    ),
    _item(
        "MC-CL-01",
        "Climate Risk for Business",
        "Assess physical and transition climate risk",
        "Environmental Studies",
        ["Identify climate risks", "Report climate risk to a board"],
    ),
    _item(
        "MC-CL-02",
        "Carbon Accounting",
        "Measure and report greenhouse gas emissions",
        "Environmental Studies",
        ["Compile an emissions inventory", "Apply scope 3 methods"],
    ),
    _item(
        "MC-CL-03",
        "Energy Transition Strategy",
        "Plan an organisation's path to net zero",
        "Environmental Studies",
        ["Assess decarbonisation options", "Build a transition plan"],
    ),
    _item(
        "MC-CL-04",
        "Adaptation Planning",
        "Plan for a changing climate",
        "Environmental Studies",
        ["Assess vulnerability", "Prioritise adaptation actions"],
    ),
    _item(
        "MC-LD-01",
        "Leading Through Change",
        "Lead people through uncertainty and change",
        "Management and Commerce",
        ["Diagnose readiness for change", "Lead a change initiative"],
        category="senior-executive-education",
        fee_cents=295000,
    ),
    _item(
        "MC-LD-02",
        "Strategic Communication",
        "Communicate strategy so that it is acted on",
        "Management and Commerce",
        ["Craft a strategic narrative", "Adapt messages to audiences"],
        category="senior-executive-education",
        fee_cents=295000,
    ),
    _item(
        "MC-LD-03",
        "Coaching for Performance",
        "Coach people to perform at their best",
        "Management and Commerce",
        ["Hold a coaching conversation", "Give effective feedback"],
        category="senior-executive-education",
        fee_cents=295000,
    ),
    _item(
        "MC-AI-ETH",
        "AI Ethics and Governance",
        "Govern artificial intelligence responsibly",
        "Information Technology",
        ["Identify ethical risks of AI", "Design an AI governance framework"],
        expiry_months=24,
    ),
    _item(
        "MC-CYB-01",
        "Cyber Security for Executives",
        "Lead an organisation's cyber resilience",
        "Information Technology",
        ["Assess cyber risk", "Lead an incident response"],
        category="senior-executive-education",
        fee_cents=0,
    ),
    _item(
        "MC-FR-NEG",
        "Négociation interculturelle",
        "Négocier avec succès entre cultures",
        "Society and Culture",
        ["Analyser les différences culturelles", "Conduire une négociation"],
        language="fr",
        convenor="Dr Camille Martin",
        delivery_modes=["synchronous-online"],
    ),
    _item(
        "MC-JPN-A1",
        "Japanese for Professionals (A1)",
        "Everyday professional Japanese",
        "Society and Culture",
        ["Introduce yourself and your work", "Handle simple business exchanges"],
        language="ja",
        is_language_micro_credential=True,
        language_level="A1",
        category="personal-development",
        fee_cents=89500,
    ),
    _item(
        "MC-IND-01",
        "Indigenous Knowledges and Land Management",
        "Learn from Indigenous land practice",
        "Environmental Studies",
        ["Describe Indigenous land management", "Plan culturally safe engagement"],
        category="personal-development",
        fee_cents=99500,
    ),
]

STACKS = [
    (
        "SERIES-DA",
        "Applied Data Analytics Series",
        "series",
        ["MC-DA-01", "MC-DA-02", "MC-DA-03", "MC-DA-04"],
        None,
        48,
        "Graduate Certificate of Applied Data Analytics",
    ),
    (
        "SERIES-PP",
        "Public Policy Series",
        "series",
        ["MC-PP-01", "MC-PP-02", "MC-PP-03", "MC-PP-04"],
        None,
        48,
        "Master of Public Policy",
    ),
    (
        "SERIES-CL",
        "Climate Change Series",
        "series",
        ["MC-CL-01", "MC-CL-02", "MC-CL-03", "MC-CL-04"],
        None,
        48,
        "Graduate Certificate of Climate Change",
    ),
    (
        "SUITE-LEAD",
        "Executive Leadership Suite",
        "suite",
        ["MC-LD-01", "MC-LD-02", "MC-LD-03"],
        2,
        24,
        None,
    ),
]


def _offerings(index: int, now: datetime) -> list[tuple[int, int, int]]:
    """(starts in days, enrolment opens in days, enrolment closes in days) per offering."""
    past = (-120, -180, -125)
    running = (-10, -60, -12)
    open_now = (21 + index, -7, 14 + index)
    future = (120 + index, 40, 110)
    return [past, running, open_now, future] if index % 3 == 0 else [running, open_now, future]


async def load(engine: AsyncEngine, *, now: datetime) -> bool:
    """Load the demo catalogue into an empty catalogue; False if it already has items."""
    async with engine.begin() as conn:
        await lock(conn, "catalogue.sample")
        if await conn.scalar(select(func.count()).select_from(tables.micro_credential)):
            return False
        rows = [
            bulk.Row(n, item, MicroCredentialDraft.model_validate(item))
            for n, item in enumerate(ITEMS)
        ]
        if not await usecases.import_catalogue(
            conn, rows, publish=True, importer=APPROVER, now=now
        ):
            raise ValueError(f"the demo catalogue breaks the rules: {[r.report() for r in rows]}")
        await _publish_stacks(conn, now)
        await _schedule_offerings(conn, now)
    return True


async def _publish_stacks(conn: AsyncConnection, now: datetime) -> None:
    for code, title, kind, members, required, within, pathway in STACKS:
        member_ids = await usecases.member_ids(conn, members)
        stack = Stack(
            id=uuid4(),
            version=1,
            code=code,
            title=title,
            description=f"{title}: {len(members)} related micro-credentials.",
            kind=kind,  # type: ignore[arg-type]
            members=await repository.stack_members(conn, member_ids),
            required_count=required,
            within_months=within,
            learning_outcomes=[
                LearningOutcome(id="SLO1", description=f"Integrate the learning of the {title}")
            ],
            credit_pathways=[CreditPathway(program=pathway, credit_points=Decimal("12.5"))]
            if pathway
            else [],
            proposed_by=LOADER,
            approved_by=None,
        )
        await usecases.propose_stack(conn, stack, now=now)
        await usecases.submit_stack(conn, code, now=now)
        await usecases.approve_stack(conn, code, approver=APPROVER, now=now)
        await usecases.publish_stack(conn, code, now=now)


def _sessions(start: date, *, online: bool) -> tuple[Session, ...]:
    """Six evening sessions, five days apart, in Canberra."""
    evenings = [
        datetime.combine(start + timedelta(days=5 * n), time(18), ZoneInfo("Australia/Sydney"))
        for n in range(6)
    ]
    return tuple(
        Session(
            starts_at=evening,
            ends_at=evening + timedelta(hours=3),
            venue=None if online else "Acton campus, Hanna Neumann Building, room 1.23",
            online=online,
            join_note="The Zoom link is emailed the day before" if online else None,
        )
        for evening in evenings
    )


async def _schedule_offerings(conn: AsyncConnection, now: datetime) -> None:
    for index, item in enumerate(ITEMS):
        for starts, opens, closes in _offerings(index, now):
            start = (now + timedelta(days=starts)).date()
            await usecases.schedule(
                conn,
                item["code"],
                OfferingPlan(
                    starts_on=start,
                    ends_on=start + timedelta(days=28),
                    enrolment_opens_at=now + timedelta(days=opens),
                    enrolment_closes_at=now + timedelta(days=closes),
                    capacity=30,
                    delivery_mode=item["delivery_modes"][0],
                    location="Acton campus, Canberra"
                    if item["delivery_modes"][0] == "on-campus"
                    else "Online (Zoom)",
                    contact_sessions=6,
                    lms_course_ref=f"MOODLE-{item['code']}",
                    sessions=_sessions(start, online=item["delivery_modes"][0] != "on-campus"),
                ),
                now=now,
            )
