"""The issuer's use cases, one module per concern (each paired with `issuer.api.<same>`):
issuing, status, learner_records, readmodels; status_lists serves issuing and status.
They load, decide (in `issuer.domain`), sign and stage events; the caller owns the
transaction."""
