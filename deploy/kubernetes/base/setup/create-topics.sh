#!/bin/bash
# Creates (or brings up to date) every Credstack topic on Apache Kafka; idempotent. Runs in the
# official apache/kafka image: docker-compose.yml's `topics` job and the Kubernetes migration
# Job's first step. Topic names follow credstack.contracts.topics (a test checks this list).
#   KAFKA_BOOTSTRAP_SERVERS  the brokers            PARTITIONS        per topic (default 3)
#   REPLICATION_FACTOR       3 on three brokers     MIN_INSYNC        2 (acks=all needs 2 of 3)
set -euo pipefail
: "${KAFKA_BOOTSTRAP_SERVERS:?set KAFKA_BOOTSTRAP_SERVERS}"
PARTITIONS=${PARTITIONS:-3}
REPLICATION_FACTOR=${REPLICATION_FACTOR:-3}
MIN_INSYNC=${MIN_INSYNC:-2}
KAFKA=${KAFKA_HOME:-/opt/kafka}/bin
DAY=86400000

# name  retention.ms  what
TOPICS="
catalogue.events      $((90 * DAY))  events: replayable for 90 days (the dashboard's log keeps 90)
enrolment.events      $((90 * DAY))  events
assessment.events     $((90 * DAY))  events
issuer.events         $((90 * DAY))  events
notifier.events       $((90 * DAY))  events (counts only, never an address)
enrolment.contacts    $((14 * DAY))  learners' contact data: 14 days, the consumers keep their copy
issuer.claims         $((14 * DAY))  wallet claim offers for the notifier: 14 days, an offer's lifetime
catalogue.dlq         $((30 * DAY))  dead letters of each consuming service: 30 days
enrolment.dlq         $((30 * DAY))  dead letters
assessment.dlq        $((30 * DAY))  dead letters
issuer.dlq            $((30 * DAY))  dead letters
dashboard.dlq         $((30 * DAY))  dead letters
notifier.dlq          $((30 * DAY))  dead letters
"

echo "$TOPICS" | while read -r name retention _; do
  [ -n "$name" ] || continue
  "$KAFKA/kafka-topics.sh" --bootstrap-server "$KAFKA_BOOTSTRAP_SERVERS" --create --if-not-exists \
    --topic "$name" --partitions "$PARTITIONS" --replication-factor "$REPLICATION_FACTOR" \
    --config min.insync.replicas="$MIN_INSYNC" --config retention.ms="$retention" \
    --config cleanup.policy=delete
  # An existing topic: bring its settings to the ones above; the partition count is changed by hand (docs/deployment.md, Scaling).
  "$KAFKA/kafka-configs.sh" --bootstrap-server "$KAFKA_BOOTSTRAP_SERVERS" --alter \
    --entity-type topics --entity-name "$name" \
    --add-config "min.insync.replicas=$MIN_INSYNC,retention.ms=$retention"
  echo "topic $name: $PARTITIONS partitions × $REPLICATION_FACTOR replicas, retention $retention ms"
done
