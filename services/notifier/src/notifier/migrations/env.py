from credstack.migrations import run_env
from notifier.tables import metadata

run_env(metadata)
