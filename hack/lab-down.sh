#!/usr/bin/env bash
# Removes everything hack/lab-up.sh created: processes, namespaces (and with them the agents'
# iptables chains), the host link and address, and /run/turnpike-lab. Exits 1 if anything is left.
set -euo pipefail
cd "$(dirname "$0")/.."
if [[ ! -f test-e2e/target/turnpike-lab.jar ]]; then
  mvn -B -ntp -q install -DskipTests
fi
exec java -jar test-e2e/target/turnpike-lab.jar down --root . "$@"
