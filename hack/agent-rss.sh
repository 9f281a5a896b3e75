#!/usr/bin/env bash
# Agent memory at scale: N ForwardingTables x E endpoints in the Fabric8 mock API server, the agent
# jar (iptables backend) in its own JVM; both inside a scratch network namespace (root), so the
# agent's rules and the mock's loopback stay there. Usage: hack/agent-rss.sh [services=10000]
# [endpointsPerService=10] [churnUpdates=200]. AGENT_JAVA_OPTS passes JVM flags to the agent
# (default: dataplane/jvm.options; set but empty: the JVM's defaults; several configurations
# separated by |); IPTABLES_MODE=nft leaves the variant to detection; HARNESS_JAVA_OPTS=-Dhistogram=true
# adds class histograms, -Dnmt=true the agent's NMT summary (the agent needs -XX:NativeMemoryTracking=summary).
set -euo pipefail
cd "$(dirname "$0")/.."
# The agent's documented JVM flags (docs/dataplane.md, "JVM flags").
: "${AGENT_JAVA_OPTS=$(cat dataplane/jvm.options)}"
export AGENT_JAVA_OPTS
# package, not install: the shared local repository is left alone (the reactor resolves crds).
mvn -B -ntp -q -o -pl crds,dataplane -am package -DskipTests
mvn -B -ntp -q -o -pl crds,dataplane -am test-compile dependency:build-classpath -Dmdep.includeScope=test -Dmdep.outputFile=target/test-classpath.txt
ns="tp-rss-$$"
ip netns add "$ns"
trap 'ip netns del "$ns"' EXIT
ip -n "$ns" link set lo up
# The agent picks the iptables variant the node already uses (kube-proxy's wrapper): one legacy rule
# makes it legacy, the mode that finishes a 10k-Service full sync (docs/iptables.md "Figures").
if [[ "${IPTABLES_MODE:-legacy}" == legacy ]]; then
  ip netns exec "$ns" iptables-legacy -A INPUT -s 192.0.2.99/32 -j ACCEPT
fi
cd dataplane
ip netns exec "$ns" java -Xmx2g ${HARNESS_JAVA_OPTS:-} -Dorg.slf4j.simpleLogger.defaultLogLevel=warn \
  -cp "target/test-classes:target/classes:../crds/target/classes:$(cat target/test-classpath.txt)" \
  dev.turnpike.dataplane.agent.AgentRssHarness target/turnpike-dataplane.jar "$@"
