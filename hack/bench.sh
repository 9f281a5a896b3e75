#!/usr/bin/env bash
# Runs a module's JMH benchmarks (classes under src/test/java, compiled with the JMH annotation
# processor that is on the test classpath).
# Usage: hack/bench.sh <module> [JMH args...]
#   e.g. hack/bench.sh crds MaglevBenchmark -f 1 -wi 3 -i 5 -w 1s -r 1s
set -euo pipefail
cd "$(dirname "$0")/.."

if (($# < 1)); then
  echo "usage: hack/bench.sh <module> [JMH args...]" >&2
  exit 2
fi
module=$1
shift
if [[ ! -f "$module/pom.xml" ]]; then
  echo "bench: no Maven module '$module' (expected $module/pom.xml)" >&2
  exit 2
fi

# Compile the module's tests and write its test classpath in one reactor run: -am builds the
# modules it depends on alongside, so this works from a clean checkout without installing anything.
# The relative output file resolves against each module's own directory.
mvn -q -B -ntp -pl "$module" -am test-compile dependency:build-classpath \
  -Dmdep.includeScope=test -Dmdep.outputFile=target/bench-classpath.txt

benchmarks="$module/target/test-classes/META-INF/BenchmarkList"
if [[ ! -s "$benchmarks" ]]; then
  echo "bench: $benchmarks is missing or empty: no @Benchmark methods, or the JMH annotation" \
    "processor did not run over $module's test sources" >&2
  exit 1
fi

exec java -cp "$module/target/test-classes:$module/target/classes:$(cat "$module/target/bench-classpath.txt")" \
  org.openjdk.jmh.Main "$@"
