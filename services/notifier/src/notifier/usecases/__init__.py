"""The notifier's use cases, paired with `notifier.api` by concern: `events` (what each
consumed event records and which message it stages), `sending` (the email outbox's
sender), `interest` (double opt-in and unsubscribe), `learners` (preferences, erasure,
the learner page), `staff` (sent and failed messages, resend)."""
