#!/usr/bin/env bash
# Runs every test: installs what is missing, then the whole Maven build (unit, golden, property and
# real-kernel tests). This is the README's test command and what CI runs.
set -euo pipefail
cd "$(dirname "$0")/.."
hack/install-deps.sh
exec mvn -B -ntp verify "$@"
