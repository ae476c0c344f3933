from credstack.migrations import run_env
from dashboard.tables import metadata

run_env(metadata)
