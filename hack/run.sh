#!/usr/bin/env bash
# Runs Turnpike. For now: computes, offline, the ForwardingTables the operator would write for the
# Service and EndpointSlice YAML given (files or directories; default examples/) and prints them.
set -euo pipefail
cd "$(dirname "$0")/.."
hack/install-deps.sh
jar=operator/target/turnpike-operator-0.1.0-SNAPSHOT.jar
cp_file=operator/target/runtime.classpath
if [[ ! -f $jar || ! -f $cp_file || -n $(find crds/src operator/src -newer "$jar" -name '*.java' -print -quit) ]]; then
  mvn -B -ntp -q -pl operator -am install -DskipTests
  mvn -B -ntp -q -pl operator dependency:build-classpath -Dmdep.includeScope=runtime -Dmdep.outputFile="$PWD/$cp_file"
fi
[[ $# -gt 0 ]] || set -- examples/
exec java -cp "$jar:$(cat "$cp_file")" dev.turnpike.operator.cli.ComputeCommand "$@"
