"""Independent checks of issued credentials: the official OB 3.0 JSON Schemas
(AchievementCredential, EndorsementCredential)."""

import json
from typing import Any

from jsonschema import Draft201909Validator

from credstack.testing import REPO

REFERENCE = REPO.parent / "shared" / "reference"


def ob3_schema_errors(credential: dict[str, Any]) -> list[str]:
    return _schema_errors("ob_v3p0_achievementcredential_schema.json", credential)


def endorsement_schema_errors(credential: dict[str, Any]) -> list[str]:
    return _schema_errors("ob_v3p0_endorsementcredential_schema.json", credential)


def _schema_errors(name: str, credential: dict[str, Any]) -> list[str]:
    schema_file = REFERENCE / "schemas/ob_v3p0" / name
    schema = json.loads(schema_file.read_text())
    validator = Draft201909Validator(schema, format_checker=Draft201909Validator.FORMAT_CHECKER)
    return [f"{list(e.path)}: {e.message}" for e in validator.iter_errors(credential)]
