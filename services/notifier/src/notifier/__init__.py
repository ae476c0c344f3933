"""The notifier: every message the platform sends learners (and people who registered
interest), from one email outbox, in the reader's language where a translation exists."""
