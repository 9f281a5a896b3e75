#!/usr/bin/env bash
# Regenerates the committed CRD YAML (crds/generated) from the API classes.
set -euo pipefail
cd "$(dirname "$0")/.."
mvn -B -ntp -q -pl crds process-classes
cp crds/target/classes/META-INF/fabric8/*.yml crds/generated/
echo "updated: $(ls crds/generated)"
