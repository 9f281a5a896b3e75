#!/usr/bin/env bash
# Operator scale benchmark: N Services x E endpoints in the Fabric8 mock API server, the operator
# jar in its own JVM. Usage: hack/operator-scale.sh [services=10000] [endpointsPerService=10] [samples=300] [rounds=1]
# OPERATOR_JAVA_OPTS passes JVM flags to the operator process (default: operator/jvm.options); OPERATOR_JAR runs
# another build of the operator (e.g. a copy of an older jar, for a before/after comparison);
# OPERATOR_HISTOGRAM=N prints the N largest classes of the operator's live heap at the end (jcmd).
set -euo pipefail
cd "$(dirname "$0")/.."
# The operator's documented JVM flags for 10,000 Services (docs/operator.md, "JVM flags").
: "${OPERATOR_JAVA_OPTS=$(cat operator/jvm.options)}"
export OPERATOR_JAVA_OPTS
mvn -B -ntp -q -pl crds,operator -am install -DskipTests
mvn -B -ntp -q -pl operator dependency:build-classpath -Dmdep.includeScope=test -Dmdep.outputFile=target/test-classpath.txt
cd operator
exec java -Xmx4g -Dorg.slf4j.simpleLogger.defaultLogLevel=warn \
  -Djava.util.logging.config.file=src/test/resources/logging.properties \
  -cp "target/test-classes:target/classes:../crds/target/classes:$(cat target/test-classpath.txt)" \
  dev.turnpike.operator.scale.OperatorScaleHarness "${OPERATOR_JAR:-target/turnpike-operator.jar}" "$@"
