"""Queries of the dashboard's schema: the event log (`log`), the read models kept from it
(`read_models`) and the figures the console shows (`figures`).
"""

from dashboard.repository.figures import (
    FUNNEL_STAGES,
    Funnel,
    Latency,
    Waiting,
    funnels,
    issuance_latency,
    recent_credentials,
    waiting_enrolments,
)
from dashboard.repository.log import (
    APPEND_LOCK,
    NOTIFY_CHANNEL,
    Filters,
    LogEntry,
    append,
    entries_after,
    head,
    horizon,
    latest_entries,
    prune,
)
from dashboard.repository.read_models import (
    apply_enrolment_change,
    apply_offering_change,
    enrolment_subjects,
    knows_offering,
    offering_label,
    record_declaration,
    set_credential_status,
)

__all__ = [
    "APPEND_LOCK",
    "FUNNEL_STAGES",
    "NOTIFY_CHANNEL",
    "Filters",
    "Funnel",
    "Latency",
    "LogEntry",
    "Waiting",
    "append",
    "apply_enrolment_change",
    "apply_offering_change",
    "enrolment_subjects",
    "entries_after",
    "funnels",
    "head",
    "horizon",
    "issuance_latency",
    "knows_offering",
    "latest_entries",
    "offering_label",
    "prune",
    "recent_credentials",
    "record_declaration",
    "set_credential_status",
    "waiting_enrolments",
]
