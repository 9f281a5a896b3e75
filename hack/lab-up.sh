#!/usr/bin/env bash
# Brings the whole lab up on this machine (root): an embedded API server, the operator, one
# dataplane agent per simulated node (in its own network namespace), pods as namespaces, and a
# harness playing kubelet / EndpointSlice controller / allocators / cloud LB. Then sends traffic
# from a client namespace and prints which backends answered. Safe to run twice (it tears down first).
#   hack/lab-up.sh [--manifests DIR_OR_FILE]... [--no-samples] [--requests N]
# See docs/lab.md. Tear down with hack/lab-down.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
if [[ $(id -u) -ne 0 ]]; then
  echo "lab-up: run as root (it creates network namespaces)" >&2
  exit 1
fi
hack/install-deps.sh
jars=(operator/target/turnpike-operator.jar dataplane/target/turnpike-dataplane.jar test-e2e/target/turnpike-lab.jar)
for j in "${jars[@]}"; do
  if [[ ! -f $j || -n $(find crds/src operator/src dataplane/src test-e2e/src -newer "$j" -name '*.java' -print -quit) ]]; then
    mvn -B -ntp -q install -DskipTests
    break
  fi
done
exec java -jar test-e2e/target/turnpike-lab.jar up --root . "$@"
