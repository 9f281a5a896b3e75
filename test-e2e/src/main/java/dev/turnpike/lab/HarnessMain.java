package dev.turnpike.lab;

import io.fabric8.kubernetes.api.model.ContainerPort;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.IntOrString;
import io.fabric8.kubernetes.api.model.LoadBalancerIngressBuilder;
import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import io.fabric8.kubernetes.api.model.Node;
import io.fabric8.kubernetes.api.model.NodeBuilder;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.ServicePort;
import io.fabric8.kubernetes.api.model.ServiceStatusBuilder;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.discovery.v1.Endpoint;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointBuilder;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointPort;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointPortBuilder;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointSlice;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointSliceBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.fabric8.kubernetes.client.KubernetesClientException;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeMap;
import java.util.UUID;
import java.util.stream.Stream;

/**
 * The lab's cluster machinery, in its own process: it plays kubelet (pods as network namespaces
 * behind a node, each running a TCP+UDP server that answers "POD-NAME PEER-IP"), the Deployment
 * and EndpointSlice controllers (readiness and terminating conditions), the ClusterIP/NodePort
 * allocator and the cloud load-balancer controller (status.loadBalancer.ingress). Everything is
 * polled from the API server, so objects changed with kubectl are picked up too.
 */
public final class HarnessMain {
  static final String MANAGED_BY = "turnpike-lab";
  static final long GRACE_MS = 2000;

  private final Topology topo;
  private final KubernetesClient client;
  private final Map<String, List<Pod>> pods = new TreeMap<>(); // "ns/deployment" -> pods
  private final Set<Integer> usedPodIps = new HashSet<>();
  private int podCounter;

  static final class Pod {
    String namespace;
    String name;
    String deployment;
    int index;
    int node;
    String ip;
    String netns;
    String veth;
    Map<String, String> labels;
    Map<String, Integer> namedPorts;
    final List<Process> servers = new ArrayList<>();
    boolean ready;
    long terminatingSince;
  }

  HarnessMain(Topology topo, KubernetesClient client) {
    this.topo = topo;
    this.client = client;
  }

  public static void main(String[] args) throws Exception {
    Map<String, String> flags = Flags.parse(args);
    Topology topo = Topology.fromFlags(flags, Topology.lab(Path.of("/run/turnpike-lab")));
    System.setProperty("kubeconfig", topo.kubeconfig().toString());
    try (KubernetesClient client = new KubernetesClientBuilder().build()) {
      HarnessMain h = new HarnessMain(topo, client);
      h.createNodes();
      for (int replica = 0; replica < 2; replica++) {
        forward(topo.operatorPort() + replica, topo.cpIp(), topo.operatorPort() + replica);
      }
      for (int i : topo.nodeIndexes()) {
        forward(topo.agentMetricsLoopbackPort(i), topo.nodeIp(i), 10249);
      }
      for (String m : Flags.positional(flags)) {
        h.apply(Path.of(m));
      }
      System.out.println("harness: running");
      while (true) {
        try {
          h.reconcile();
        } catch (KubernetesClientException | IOException e) {
          System.out.println("harness: " + e.getMessage());
        }
        Thread.sleep(200);
      }
    }
  }

  private static void forward(int localPort, String host, int port) {
    try {
      Forwarder.start(localPort, host, port);
    } catch (IOException e) {
      System.out.println("harness: cannot forward 127.0.0.1:" + localPort + " to " + host + ":" + port + ": " + e.getMessage());
    }
  }

  void createNodes() {
    for (int i : topo.nodeIndexes()) {
      Node n = new NodeBuilder().withNewMetadata().withName(topo.nodeName(i)).withUid(UUID.randomUUID().toString())
          .addToLabels("kubernetes.io/hostname", topo.nodeName(i))
          .addToLabels("topology.kubernetes.io/zone", "zone-" + (char) ('a' + i)).endMetadata()
          .withNewSpec().withPodCIDR(topo.podCidr(i)).endSpec()
          .withNewStatus().addNewAddress().withType("InternalIP").withAddress(topo.nodeIp(i)).endAddress()
          .addNewCondition().withType("Ready").withStatus("True").endCondition().endStatus().build();
      if (client.nodes().withName(n.getMetadata().getName()).get() == null) {
        client.resource(n).create();
      }
    }
  }

  /** Creates the objects of a YAML file, or of every *.yaml / *.yml file under a directory. */
  void apply(Path path) throws IOException {
    List<Path> files = new ArrayList<>();
    if (Files.isDirectory(path)) {
      try (Stream<Path> s = Files.walk(path)) {
        s.filter(p -> p.toString().endsWith(".yaml") || p.toString().endsWith(".yml")).sorted().forEach(files::add);
      }
    } else {
      files.add(path);
    }
    for (Path f : files) {
      try (InputStream in = Files.newInputStream(f)) {
        for (HasMetadata o : client.load(in).items()) {
          create(o);
        }
      }
    }
  }

  void create(HasMetadata o) {
    String ns = o.getMetadata().getNamespace();
    if (o instanceof io.fabric8.kubernetes.api.model.Namespace) {
      ns = null;
    } else if (ns == null) {
      ns = "default";
      o.getMetadata().setNamespace(ns);
    }
    if (ns != null && client.namespaces().withName(ns).get() == null) {
      client.resource(new NamespaceBuilder().withNewMetadata().withName(ns).endMetadata().build()).create();
    }
    if (o.getMetadata().getUid() == null) {
      o.getMetadata().setUid(UUID.randomUUID().toString());
    }
    if (client.resource(o).get() == null) {
      client.resource(o).create();
      System.out.println("harness: created " + o.getKind() + " " + (ns == null ? "" : ns + "/") + o.getMetadata().getName());
    }
  }

  void reconcile() throws IOException {
    allocate();
    reconcilePods();
    writeSlices();
  }

  // ---- ClusterIP / NodePort allocator and cloud LB controller ----

  void allocate() {
    List<Service> services = client.services().inAnyNamespace().list().getItems();
    Set<String> ips = new HashSet<>();
    Set<Integer> nodePorts = new HashSet<>();
    Set<String> lbIps = new HashSet<>();
    for (Service s : services) {
      ips.add(s.getSpec().getClusterIP());
      for (ServicePort p : s.getSpec().getPorts()) {
        nodePorts.add(p.getNodePort());
      }
      nodePorts.add(s.getSpec().getHealthCheckNodePort());
      if (s.getStatus() != null && s.getStatus().getLoadBalancer() != null && s.getStatus().getLoadBalancer().getIngress() != null) {
        s.getStatus().getLoadBalancer().getIngress().forEach(i -> lbIps.add(i.getIp()));
      }
    }
    for (Service s : services) {
      String type = Objects.requireNonNullElse(s.getSpec().getType(), "ClusterIP");
      boolean changed = false;
      if (s.getMetadata().getUid() == null) {
        s.getMetadata().setUid(UUID.randomUUID().toString());
        changed = true;
      }
      if (!type.equals("ExternalName") && (s.getSpec().getClusterIP() == null || s.getSpec().getClusterIP().isEmpty())) {
        String ip = null;
        for (int n = 10; n < 65000 && ip == null; n++) {
          String c = topo.clusterIpPrefix() + "." + (n / 256) + "." + (n % 256);
          if (n % 256 != 0 && n % 256 != 255 && !ips.contains(c)) {
            ip = c;
          }
        }
        ips.add(ip);
        s.getSpec().setClusterIP(ip);
        s.getSpec().setClusterIPs(List.of(ip));
        s.getSpec().setIpFamilies(List.of("IPv4"));
        s.getSpec().setIpFamilyPolicy("SingleStack");
        changed = true;
      }
      boolean external = type.equals("NodePort") || type.equals("LoadBalancer");
      if (external) {
        for (ServicePort p : s.getSpec().getPorts()) {
          if (p.getNodePort() == null || p.getNodePort() == 0) {
            p.setNodePort(freePort(nodePorts, 30000));
            changed = true;
          }
        }
      }
      if (type.equals("LoadBalancer") && "Local".equals(s.getSpec().getExternalTrafficPolicy())
          && (s.getSpec().getHealthCheckNodePort() == null || s.getSpec().getHealthCheckNodePort() == 0)) {
        s.getSpec().setHealthCheckNodePort(freePort(nodePorts, 32000));
        changed = true;
      }
      if (changed) {
        s = client.resource(s).update();
        System.out.println("harness: allocated " + key(s) + " clusterIP " + s.getSpec().getClusterIP());
      }
      if (type.equals("LoadBalancer") && (s.getStatus() == null || s.getStatus().getLoadBalancer() == null
          || s.getStatus().getLoadBalancer().getIngress() == null || s.getStatus().getLoadBalancer().getIngress().isEmpty())) {
        String ip = null;
        for (int n = topo.lbFirst(); n < topo.lbFirst() + 32 && ip == null; n++) {
          String c = topo.lbBase() + "." + n;
          if (!lbIps.contains(c)) {
            ip = c;
          }
        }
        if (ip != null) {
          lbIps.add(ip);
          s.setStatus(new ServiceStatusBuilder().withNewLoadBalancer()
              .withIngress(new LoadBalancerIngressBuilder().withIp(ip).withIpMode("VIP").build()).endLoadBalancer().build());
          client.resource(s).updateStatus();
          System.out.println("harness: load balancer " + key(s) + " ingress " + ip);
        }
      }
    }
  }

  private static int freePort(Set<Integer> used, int from) {
    for (int p = from; p < 32768; p++) {
      if (used.add(p)) {
        return p;
      }
    }
    throw new IllegalStateException("no free node port");
  }

  private static String key(HasMetadata o) {
    return o.getMetadata().getNamespace() + "/" + o.getMetadata().getName();
  }

  // ---- kubelet and the Deployment controller ----

  void reconcilePods() throws IOException {
    Map<String, Deployment> deployments = new HashMap<>();
    for (Deployment d : client.apps().deployments().inAnyNamespace().list().getItems()) {
      deployments.put(key(d), d);
    }
    long now = System.currentTimeMillis();
    for (String k : new ArrayList<>(pods.keySet())) {
      if (!deployments.containsKey(k)) {
        pods.get(k).stream().filter(p -> p.terminatingSince == 0).forEach(p -> p.terminatingSince = now);
      }
    }
    for (Deployment d : deployments.values()) {
      List<Pod> list = pods.computeIfAbsent(key(d), x -> new ArrayList<>());
      int desired = d.getSpec().getReplicas() == null ? 1 : d.getSpec().getReplicas();
      List<Pod> live = list.stream().filter(p -> p.terminatingSince == 0).sorted(Comparator.comparingInt(p -> p.index)).toList();
      for (int i = live.size() - 1; i >= desired; i--) {
        live.get(i).terminatingSince = now;
        System.out.println("harness: terminating " + live.get(i).name);
      }
      for (int n = live.size(); n < desired; n++) {
        Set<Integer> taken = new HashSet<>();
        list.forEach(p -> taken.add(p.index));
        int index = 0;
        while (taken.contains(index)) {
          index++;
        }
        list.add(startPod(d, index));
      }
    }
    for (List<Pod> list : pods.values()) {
      for (Pod p : new ArrayList<>(list)) {
        if (p.terminatingSince != 0 && now - p.terminatingSince >= GRACE_MS) {
          stopPod(p);
          list.remove(p);
        }
      }
    }
  }

  Pod startPod(Deployment d, int index) throws IOException {
    Pod p = new Pod();
    p.namespace = d.getMetadata().getNamespace();
    p.deployment = d.getMetadata().getName();
    p.index = index;
    p.node = index % topo.nodes();
    int counter = ++podCounter;
    p.name = String.format("%s-%05x", p.deployment, counter);
    int n = 2;
    while (usedPodIps.contains(p.node * 1000 + n)) {
      n++;
    }
    usedPodIps.add(p.node * 1000 + n);
    p.ip = topo.podIp(p.node, n);
    p.netns = topo.podNsPrefix() + Integer.toHexString(counter);
    p.veth = topo.prefix() + "v" + Integer.toHexString(counter);
    p.labels = d.getSpec().getTemplate().getMetadata().getLabels();
    p.namedPorts = new LinkedHashMap<>();
    Set<Integer> ports = new java.util.TreeSet<>();
    d.getSpec().getTemplate().getSpec().getContainers().forEach(c -> {
      if (c.getPorts() != null) {
        for (ContainerPort cp : c.getPorts()) {
          ports.add(cp.getContainerPort());
          if (cp.getName() != null) {
            p.namedPorts.put(cp.getName(), cp.getContainerPort());
          }
        }
      }
    });
    String node = topo.nodeNs(p.node);
    Sh.run("ip", "netns", "add", p.netns);
    Sh.run("ip", "-n", p.netns, "link", "set", "lo", "up");
    Sh.run("ip", "-n", node, "link", "add", p.veth, "type", "veth", "peer", "name", "eth0", "netns", p.netns);
    Sh.run("ip", "-n", node, "link", "set", p.veth, "master", "cbr0");
    Sh.run("ip", "-n", node, "link", "set", p.veth, "type", "bridge_slave", "hairpin", "on");
    Sh.run("ip", "-n", node, "link", "set", p.veth, "up");
    Sh.run("ip", "-n", p.netns, "addr", "add", p.ip + "/32", "dev", "eth0");
    Sh.run("ip", "-n", p.netns, "link", "set", "eth0", "up");
    Sh.run("ip", "-n", p.netns, "route", "add", topo.podGateway(p.node), "dev", "eth0", "scope", "link");
    Sh.run("ip", "-n", p.netns, "route", "add", "default", "via", topo.podGateway(p.node), "dev", "eth0");
    Sh.run("ip", "-n", node, "route", "replace", p.ip + "/32", "dev", "cbr0");
    for (int port : ports) {
      Process proc = new ProcessBuilder("ip", "netns", "exec", p.netns, "python3", "-u", "-c", PodServer.SCRIPT, p.name,
          String.valueOf(port)).redirectErrorStream(true).start();
      p.servers.add(proc);
      String line = new BufferedReader(new InputStreamReader(proc.getInputStream(), StandardCharsets.UTF_8)).readLine();
      if (!"ready".equals(line)) {
        throw new IOException("pod " + p.name + " server on " + port + " did not start: " + line);
      }
    }
    p.ready = true;
    try {
      client.resource(new PodBuilder().withNewMetadata().withNamespace(p.namespace).withName(p.name)
          .withUid(UUID.randomUUID().toString()).withLabels(p.labels).endMetadata()
          .withNewSpec().withNodeName(topo.nodeName(p.node)).endSpec()
          .withNewStatus().withPhase("Running").withPodIP(p.ip).withHostIP(topo.nodeIp(p.node))
          .addNewCondition().withType("Ready").withStatus("True").endCondition().endStatus().build()).create();
    } catch (KubernetesClientException e) {
      // visibility only
    }
    System.out.println("harness: started " + p.name + " " + p.ip + " on " + topo.nodeName(p.node));
    return p;
  }

  void stopPod(Pod p) {
    for (Process proc : p.servers) {
      proc.destroyForcibly();
    }
    Sh.quiet("ip", "-n", topo.nodeNs(p.node), "route", "del", p.ip + "/32");
    Sh.quiet("ip", "netns", "del", p.netns);
    usedPodIps.remove(p.node * 1000 + Integer.parseInt(p.ip.substring(p.ip.lastIndexOf('.') + 1)));
    try {
      client.pods().inNamespace(p.namespace).withName(p.name).delete();
    } catch (KubernetesClientException e) {
      // visibility only
    }
    System.out.println("harness: stopped " + p.name);
  }

  // ---- the EndpointSlice controller ----

  void writeSlices() {
    for (Service s : client.services().inAnyNamespace().list().getItems()) {
      Map<String, String> selector = s.getSpec().getSelector();
      if (selector == null || selector.isEmpty()) {
        continue;
      }
      List<Pod> members = new ArrayList<>();
      pods.values().forEach(list -> list.stream()
          .filter(p -> p.namespace.equals(s.getMetadata().getNamespace()) && p.ready
              && p.labels.entrySet().containsAll(selector.entrySet()))
          .forEach(members::add));
      members.sort(Comparator.comparing(p -> p.name));
      List<EndpointPort> ports = new ArrayList<>();
      for (ServicePort sp : s.getSpec().getPorts()) {
        IntOrString target = sp.getTargetPort();
        Integer number = sp.getPort();
        if (target != null && target.getIntVal() != null) {
          number = target.getIntVal();
        } else if (target != null && target.getStrVal() != null) {
          number = members.stream().map(p -> p.namedPorts.get(target.getStrVal())).filter(Objects::nonNull).findFirst().orElse(null);
        }
        if (number != null) {
          ports.add(new EndpointPortBuilder().withName(sp.getName()).withProtocol(Objects.requireNonNullElse(sp.getProtocol(), "TCP"))
              .withPort(number).build());
        }
      }
      List<Endpoint> endpoints = new ArrayList<>();
      for (Pod p : members) {
        boolean terminating = p.terminatingSince != 0;
        endpoints.add(new EndpointBuilder().withAddresses(p.ip).withNodeName(topo.nodeName(p.node))
            .withZone("zone-" + (char) ('a' + p.node))
            .withNewConditions().withReady(!terminating).withServing(true).withTerminating(terminating).endConditions()
            .withNewTargetRef().withKind("Pod").withNamespace(p.namespace).withName(p.name).endTargetRef().build());
      }
      String name = s.getMetadata().getName() + "-lab";
      EndpointSlice existing = client.discovery().v1().endpointSlices().inNamespace(s.getMetadata().getNamespace()).withName(name).get();
      if (existing != null && Objects.equals(existing.getEndpoints(), endpoints) && Objects.equals(existing.getPorts(), ports)) {
        continue;
      }
      EndpointSlice slice = new EndpointSliceBuilder().withNewMetadata().withNamespace(s.getMetadata().getNamespace()).withName(name)
          .addToLabels("kubernetes.io/service-name", s.getMetadata().getName())
          .addToLabels("endpointslice.kubernetes.io/managed-by", MANAGED_BY)
          .addToAnnotations("endpoints.kubernetes.io/last-change-trigger-time", Instant.now().truncatedTo(ChronoUnit.SECONDS).toString())
          .endMetadata().withAddressType("IPv4").withPorts(ports).withEndpoints(endpoints).build();
      if (existing == null) {
        slice.getMetadata().setUid(UUID.randomUUID().toString());
        client.resource(slice).create();
      } else {
        slice.getMetadata().setUid(existing.getMetadata().getUid());
        slice.getMetadata().setResourceVersion(existing.getMetadata().getResourceVersion());
        client.resource(slice).update();
      }
      System.out.println("harness: slice " + key(slice) + " " + endpoints.size() + " endpoints");
    }
  }
}
