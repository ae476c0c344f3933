"""Bulk catalogue files: CSV and JSON, row by row. No I/O here.

CSV cells: plain text for scalar fields; `|` between the items of a list of text
(delivery modes, teaching staff, co-taught courses, prerequisite codes); learning
outcomes as `LO1: text | LO2: text`; alignments, endorsements and credit pathways as
a JSON array. An export can be imported again unchanged.
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError

from catalogue.views import MicroCredentialDraft

TEXT_LISTS = ("delivery_modes", "teaching_staff", "co_taught_courses", "prerequisite_codes")
JSON_LISTS = ("alignments", "endorsements", "credit_pathways")
COLUMNS = list(MicroCredentialDraft.model_fields)


@dataclass
class Row:
    """One row of an import: what it asked for and everything wrong with it."""

    number: int
    raw: dict[str, Any]
    draft: MicroCredentialDraft | None = None
    errors: list[str] = field(default_factory=list)

    @property
    def code(self) -> str:
        return str(self.raw.get("code") or "")

    def report(self) -> dict[str, Any]:
        return {
            "row": self.number,
            "code": self.code,
            "status": "error" if self.errors else "ok",
            "errors": self.errors,
        }


class UnreadableFile(ValueError):
    pass


def _outcomes_from_cell(cell: str) -> list[dict[str, str]]:
    outcomes = []
    for part in filter(None, (p.strip() for p in cell.split("|"))):
        identifier, separator, description = part.partition(":")
        if not separator:
            raise ValueError(f"learning outcome {part!r} is not 'ID: description'")
        outcomes.append({"id": identifier.strip(), "description": description.strip()})
    return outcomes


def _from_csv_row(cells: dict[str, str]) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for name, cell in cells.items():
        cell = (cell or "").strip()
        if not cell:
            continue
        if name in TEXT_LISTS:
            values[name] = [p.strip() for p in cell.split("|") if p.strip()]
        elif name in JSON_LISTS:
            values[name] = json.loads(cell)
        elif name == "learning_outcomes":
            values[name] = _outcomes_from_cell(cell)
        elif name == "is_language_micro_credential":
            values[name] = cell.lower() in ("true", "yes", "1", "y")
        else:
            values[name] = cell
    return values


MAX_IMPORT_BYTES = 4 * 1024 * 1024
"""The largest import file (a whole faculty's catalogue is well under 1 MiB)."""
MAX_ROWS = 2000
MAX_CELL_CHARS = 32 * 1024


def _csv_rows(text: str) -> list[Row]:
    if "\x00" in text:
        raise UnreadableFile("the file holds a NUL character")
    rows: list[Row] = []
    reader = csv.DictReader(io.StringIO(text))
    if not reader.fieldnames or "code" not in reader.fieldnames:
        raise UnreadableFile("the CSV needs a header row with at least a 'code' column")
    if unknown := sorted(set(reader.fieldnames) - set(COLUMNS)):
        raise UnreadableFile(f"unknown CSV column(s): {', '.join(unknown)}")
    for number, cells in enumerate(reader, start=2):
        if len(rows) >= MAX_ROWS:
            raise UnreadableFile(f"the file has more than {MAX_ROWS} rows; split it")
        if any(isinstance(cell, str) and len(cell) > MAX_CELL_CHARS for cell in cells.values()):
            raise UnreadableFile(f"row {number} has a cell over {MAX_CELL_CHARS} characters")
        row = Row(number, dict(cells))
        try:
            row.raw = _from_csv_row(cells)
        except (ValueError, json.JSONDecodeError) as error:
            row.errors.append(str(error))
        rows.append(row)
    return rows


def read(content: bytes, media_type: str) -> list[Row]:
    """The rows of a CSV or JSON (array of objects) catalogue file: at most `MAX_ROWS`
    rows of cells of at most `MAX_CELL_CHARS` characters. CPU-bound: call it off the
    event loop (`bulkapi` does, a bounded number at a time)."""
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise UnreadableFile("the file is not UTF-8 text") from error
    rows: list[Row] = []
    if media_type == "application/json":
        try:
            records = json.loads(text)
        except json.JSONDecodeError as error:
            raise UnreadableFile(f"the JSON is malformed: {error}") from error
        if not isinstance(records, list) or not all(isinstance(r, dict) for r in records):
            raise UnreadableFile("the JSON must be an array of micro-credential objects")
        if len(records) > MAX_ROWS:
            raise UnreadableFile(f"the file has more than {MAX_ROWS} rows; split it")
        rows = [Row(number, record) for number, record in enumerate(records, start=1)]
    else:
        try:
            rows = _csv_rows(text)
        except csv.Error as error:
            raise UnreadableFile(f"the CSV is malformed: {error}") from error
    for row in rows:
        if row.errors:
            continue
        try:
            row.draft = MicroCredentialDraft.model_validate(row.raw)
        except ValidationError as error:
            row.errors.extend(
                f"{'.'.join(str(p) for p in e['loc']) or 'row'}: {e['msg']}" for e in error.errors()
            )
    return rows


def _to_csv_cells(record: dict[str, Any]) -> dict[str, str]:
    cells = {}
    for name in COLUMNS:
        value = record.get(name)
        if value is None:
            cells[name] = ""
        elif name in TEXT_LISTS:
            cells[name] = " | ".join(value)
        elif name in JSON_LISTS:
            cells[name] = json.dumps(value, ensure_ascii=False) if value else ""
        elif name == "learning_outcomes":
            cells[name] = " | ".join(f"{o['id']}: {o['description']}" for o in value)
        else:
            cells[name] = str(value).lower() if isinstance(value, bool) else str(value)
    return cells


def write_csv(records: list[dict[str, Any]]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=COLUMNS, lineterminator="\n")
    writer.writeheader()
    for record in records:
        writer.writerow(_to_csv_cells(record))
    return out.getvalue()
