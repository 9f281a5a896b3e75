package dev.turnpike.lab;

import java.nio.file.Path;
import java.util.List;

/**
 * The lab's names and addresses, derived from a short prefix and the first two octets of its
 * private range, so the lab a user runs ({@code tpl}, 10.251) and the one the e2e tests run
 * ({@code tpe}, 10.252) never collide.
 *
 * <ul>
 *   <li>{@code B.255.0/24}: the node network, a bridge in namespace {@code P-net}; the host side
 *       (API server) is {@code B.255.1}, node i is {@code B.255.(10+i)}, the client {@code B.255.100};
 *   <li>{@code B.i.0/24}: node i's pods (gateway {@code B.i.1}); cluster CIDR {@code B.0.0/17};
 *   <li>ClusterIPs from {@code clusterIpPrefix.0.0/16}, LB IPs from {@code lbBase}.N.
 * </ul>
 */
public record Topology(String prefix, String base, String clusterIpPrefix, String lbBase, int lbFirst, int apiPort,
    int operatorPort, int nodes, Path stateDir) {

  public static Topology lab(Path stateDir) {
    return new Topology("tpl", "10.251", "10.97", "198.51.100", 64, 16443, 18080, 2, stateDir);
  }

  public static Topology test(Path stateDir) {
    return new Topology("tpe", "10.252", "10.98", "198.51.100", 96, 16444, 18081, 2, stateDir);
  }

  public String netNs() {
    return prefix + "-net";
  }

  /** The control-plane namespace: the operator runs here, on the node network like a pod would. */
  public String cpNs() {
    return prefix + "-cp";
  }

  public String cpIp() {
    return base + ".255.2";
  }

  public String clientNs() {
    return prefix + "-client";
  }

  public String hostVeth() {
    return prefix + "-host";
  }

  public String hostIp() {
    return base + ".255.1";
  }

  public String clientIp() {
    return base + ".255.100";
  }

  public String clusterCidr() {
    return base + ".0.0/17";
  }

  public String nodeName(int i) {
    return "node-" + (char) ('a' + i);
  }

  public String nodeNs(int i) {
    return prefix + "-" + nodeName(i);
  }

  public String nodeIp(int i) {
    return base + ".255." + (11 + i);
  }

  public String podCidr(int i) {
    return base + "." + (i + 1) + ".0/24";
  }

  public String podGateway(int i) {
    return base + "." + (i + 1) + ".1";
  }

  public String podIp(int node, int n) {
    return base + "." + (node + 1) + "." + n;
  }

  public String podNsPrefix() {
    return prefix + "-pod-";
  }

  public String clusterIpRange() {
    return clusterIpPrefix + ".0.0/16";
  }

  public String lbRange() {
    return lbBase + "." + lbFirst + "/27";
  }

  public String apiUrl() {
    return "http://" + hostIp() + ":" + apiPort;
  }

  public Path kubeconfig() {
    return stateDir.resolve("kubeconfig");
  }

  /** Host loopback port the harness forwards to node i's agent metrics (NODE-IP:10249). */
  public int agentMetricsLoopbackPort(int i) {
    return operatorPort + 100 * (i + 1);
  }

  public List<Integer> nodeIndexes() {
    return java.util.stream.IntStream.range(0, nodes).boxed().toList();
  }

  /** Flags that rebuild this topology in a child process ({@link #fromFlags}). */
  public List<String> toArgs() {
    return List.of("--prefix=" + prefix, "--base=" + base, "--cluster-ip-prefix=" + clusterIpPrefix, "--lb-base=" + lbBase,
        "--lb-first=" + lbFirst, "--api-port=" + apiPort, "--operator-port=" + operatorPort, "--nodes=" + nodes,
        "--state=" + stateDir);
  }

  public static Topology fromFlags(java.util.Map<String, String> f, Topology defaults) {
    return new Topology(f.getOrDefault("prefix", defaults.prefix), f.getOrDefault("base", defaults.base),
        f.getOrDefault("cluster-ip-prefix", defaults.clusterIpPrefix), f.getOrDefault("lb-base", defaults.lbBase),
        Integer.parseInt(f.getOrDefault("lb-first", "" + defaults.lbFirst)),
        Integer.parseInt(f.getOrDefault("api-port", "" + defaults.apiPort)),
        Integer.parseInt(f.getOrDefault("operator-port", "" + defaults.operatorPort)),
        Integer.parseInt(f.getOrDefault("nodes", "" + defaults.nodes)),
        Path.of(f.getOrDefault("state", defaults.stateDir.toString())));
  }
}
