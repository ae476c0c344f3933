from credstack.migrations import run_env
from issuer.tables import metadata

run_env(metadata)
