#!/bin/sh
# The image's entrypoint: with arguments, run them (`credstack migrate`, `credstack reconcile`);
# without, serve the service named by CREDSTACK_SERVICE on port 8000.
set -eu
if [ "$#" -gt 0 ]; then
  exec "$@"
fi
case "${CREDSTACK_SERVICE:-}" in
  catalogue | enrolment | assessment | issuer | dashboard | notifier)
    app="${CREDSTACK_SERVICE}.main:create_app" ;;
  tokens) # the dev token issuer of docker-compose.yml; never deployed
    app="credstack.devauth:app_from_env" ;;
  *)
    echo "CREDSTACK_SERVICE must name a service (catalogue, enrolment, assessment, issuer," \
      "dashboard, notifier); it is '${CREDSTACK_SERVICE:-}'" >&2
    exit 64 ;;
esac
exec uvicorn --factory --host 0.0.0.0 --port 8000 --no-access-log \
  --proxy-headers --forwarded-allow-ips "${FORWARDED_ALLOW_IPS:-127.0.0.1}" \
  --timeout-graceful-shutdown 20 "$app"
