#!/bin/sh
# One entry point for every role the image plays:
#   web              gunicorn behind nginx (deploy/bin/bookdesk-web)
#   worker           the email outbox and periodic tasks (deploy/bin/bookdesk-worker)
#   migrate          apply migrations and create the cache table, then exit (run once first)
#   anything else    a bookdesk management command, e.g. `createsuperuser`, `check --deploy`
# Extra arguments after web/worker/migrate are passed on.
set -eu

bin="${BOOKDESK_BIN_DIR:-/opt/bookdesk/bin}"
role="${1:-web}"
if [ "$#" -gt 0 ]; then shift; fi

case "$role" in
  web)
    exec "$bin/bookdesk-web" "$@"
    ;;
  worker)
    exec "$bin/bookdesk-worker" "$@"
    ;;
  migrate)
    # migrate also creates the database cache table (ops migration 0001).
    exec bookdesk migrate --noinput "$@"
    ;;
  -h | --help | help)
    sed -n '2,8p' "$0"
    ;;
  *)
    exec bookdesk "$role" "$@"
    ;;
esac
