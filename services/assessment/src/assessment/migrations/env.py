from assessment.tables import metadata
from credstack.migrations import run_env

run_env(metadata)
