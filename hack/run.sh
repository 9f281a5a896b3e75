#!/usr/bin/env bash
# Runs Turnpike. For now: computes, offline, the ForwardingTables the operator would write for the
# Service and EndpointSlice YAML given (files or directories; default examples/) and prints them.
set -euo pipefail
cd "$(dirname "$0")/.."
hack/install-deps.sh
jar=operator/target/turnpike-operator.jar
if [[ ! -f $jar || -n $(find crds/src operator/src -newer "$jar" -name '*.java' -print -quit) ]]; then
  mvn -B -ntp -q -pl crds,operator -am install -DskipTests
fi
[[ $# -gt 0 ]] || set -- examples/
exec java -jar "$jar" compute "$@"
