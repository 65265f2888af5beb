#!/bin/sh
# Make a Temporal namespace ready for orderflow, safe to repeat: wait until the cluster answers,
# create the namespace if it is missing, and register orderflow's custom search attributes
# (shared/temporal.py SEARCH_ATTRIBUTE_ARGS; the embedded dev server gets them as flags, a real
# cluster needs them registered once). Runs in the temporalio/admin-tools image, from
# docker-compose.yml (service temporal-setup) and deploy/k8s (Job temporal-bootstrap).
#
# Environment: TEMPORAL_ADDRESS (host:port), TEMPORAL_NAMESPACE, SEARCH_ATTRIBUTES
# ("Name=Type Name=Type ..."), TEMPORAL_RETENTION (a new namespace's retention, default 720h).
set -eu
: "${TEMPORAL_ADDRESS:?}" "${TEMPORAL_NAMESPACE:?}" "${SEARCH_ATTRIBUTES:?}"
addr="--address $TEMPORAL_ADDRESS"
ns="--namespace $TEMPORAL_NAMESPACE"

# retry N CMD...: run CMD until it succeeds, at most N times, 5 s apart.
retry() {
  n=$1
  shift
  i=1
  until "$@"; do
    if [ "$i" -ge "$n" ]; then
      echo "gave up after $n tries: $*" >&2
      return 1
    fi
    i=$((i + 1))
    sleep 5
  done
}

echo "waiting for Temporal at $TEMPORAL_ADDRESS"
retry 60 temporal operator cluster health $addr >/dev/null

if temporal operator namespace describe $addr $ns >/dev/null 2>&1; then
  echo "namespace $TEMPORAL_NAMESPACE exists"
else
  echo "creating namespace $TEMPORAL_NAMESPACE"
  retry 12 temporal operator namespace create $addr $ns --retention "${TEMPORAL_RETENTION:-720h}"
fi

for spec in $SEARCH_ATTRIBUTES; do
  name=${spec%%=*}
  type=${spec#*=}
  if temporal operator search-attribute list $addr $ns | grep -qw "$name"; then
    echo "search attribute $name exists"
  else
    echo "registering search attribute $name ($type)"
    # A namespace created a moment ago takes a few seconds to be known to every service.
    retry 12 temporal operator search-attribute create $addr $ns --name "$name" --type "$type"
  fi
done
echo "Temporal namespace $TEMPORAL_NAMESPACE is ready for orderflow"
