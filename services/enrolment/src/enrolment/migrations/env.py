from credstack.migrations import run_env
from enrolment.tables import metadata

run_env(metadata)
