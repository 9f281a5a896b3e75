#!/usr/bin/env bash
# Runs the operator with its documented JVM flags (operator/jvm.options; docs/operator.md, "JVM
# flags"). TURNPIKE_OPERATOR_JAVA_OPTS replaces them. Arguments go to the operator (--help lists them).
set -euo pipefail
cd "$(dirname "$0")/.."
jar=operator/target/turnpike-operator.jar
[[ -f $jar ]] || mvn -B -ntp -q -pl crds,operator -am install -DskipTests
# shellcheck disable=SC2086 # the flags are words
exec java ${TURNPIKE_OPERATOR_JAVA_OPTS-$(cat operator/jvm.options)} -jar "$jar" "$@"
