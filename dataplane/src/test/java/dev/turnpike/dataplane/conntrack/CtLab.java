package dev.turnpike.dataplane.conntrack;

import java.io.BufferedReader;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;

/**
 * Namespaces for the conntrack real-kernel tests, addresses only from 10.252.0.0/16 and only
 * inside the namespaces made here: a client ("pod") 10.252.1.2 behind the node's 10.252.1.1, and
 * a server namespace holding the endpoints 10.252.2.5 and 10.252.2.6 behind the node's
 * 10.252.2.1. The node forwards between them and runs the Service rules. Tests may shell out;
 * main code never does.
 */
final class CtLab implements AutoCloseable {
  static final String CLIENT_IP = "10.252.1.2";
  static final String ENDPOINT_A = "10.252.2.5";
  static final String ENDPOINT_B = "10.252.2.6";
  /** IPv6 (ULA, inside the lab only): the client and an endpoint. */
  static final String CLIENT_IP6 = "fd52:1::2";
  static final String ENDPOINT_B6 = "fd52:2::6";

  final String prefix = "tp-ct-" + Integer.toHexString(ThreadLocalRandom.current().nextInt(0x10000, 0xfffff));
  final String node = prefix + "-node";
  final String client = prefix + "-cl";
  final String servers = prefix + "-srv";
  final String internet = prefix + "-inet";
  /** The node's uplink addresses and the "internet" server (TEST-NET-3, only inside the lab). */
  static final String NODE_UPLINK = "203.0.113.1";
  static final String NODE_UPLINK_2 = "203.0.113.2";
  static final String INTERNET_SERVER = "203.0.113.100";
  /** A private (non-masquerade) server address, also in the internet namespace. */
  static final String PRIVATE_SERVER = "10.252.3.100";
  /** IPv6 counterparts: documentation prefix 2001:db8:100::/64 and a ULA server, lab-only. */
  static final String NODE_UPLINK6 = "2001:db8:100::1";
  static final String INTERNET_SERVER6 = "2001:db8:100::100";
  static final String PRIVATE_SERVER6 = "fd52:3::100";
  private final List<String> namespaces = new ArrayList<>();
  private final List<Process> processes = new ArrayList<>();
  private Running asker;
  /** Whether the namespaces get their IPv6 addresses and routes too (skipped where time is short: the IPVS VM). */
  private final boolean ipv6;

  private CtLab(boolean ipv6) {
    this.ipv6 = ipv6;
  }

  /** A started helper and the reader of its output (past its "ready" line). */
  record Running(Process process, BufferedReader out) {
    /** Every further line it prints, trimmed, with when Java read it, filled by a daemon thread. */
    List<Line> lines() {
      List<Line> lines = new CopyOnWriteArrayList<>();
      Thread t = new Thread(() -> {
        try {
          String l;
          while ((l = out.readLine()) != null) {
            lines.add(new Line(System.nanoTime(), l.trim()));
          }
        } catch (IOException e) {
          // the process went away
        }
      }, "lab-output-reader");
      t.setDaemon(true);
      t.start();
      return lines;
    }
  }

  /** One line a helper printed and when it was read (System.nanoTime). */
  record Line(long nanos, String text) {}

  /** Root with ip, iptables and python3: the real-kernel tier can run. */
  static boolean available() {
    try {
      return Files.readAllLines(Path.of("/proc/self/status")).stream()
              .anyMatch(l -> l.matches("Uid:\\s+0\\s.*"))
          && run(false, "ip", "-V") && run(false, "iptables-restore", "--version")
          && run(false, "python3", "-V");
    } catch (IOException e) {
      return false;
    }
  }

  static CtLab create() throws IOException {
    return create(true);
  }

  /** @param ipv6 false: IPv4 only, about a third fewer commands to set up */
  static CtLab create(boolean ipv6) throws IOException {
    return create(ipv6, false);
  }

  /** As {@link #create(boolean)} followed by {@link #withInternet()}, in fewer processes. */
  static CtLab createWithInternet(boolean ipv6) throws IOException {
    return create(ipv6, true);
  }

  private static CtLab create(boolean ipv6, boolean internet) throws IOException {
    CtLab lab = new CtLab(ipv6);
    try {
      IpBatch ip = lab.new IpBatch();
      lab.build(ip);
      if (internet) {
        lab.internet(ip);
      }
      ip.run();
      if (ipv6) {
        lab.in(lab.node, "sysctl", "-qw", "net.ipv4.ip_forward=1", "net.ipv6.conf.all.forwarding=1");
      } else {
        lab.in(lab.node, "sysctl", "-qw", "net.ipv4.ip_forward=1");
      }
      if (internet) {
        lab.startInternetServers();
      }
    } catch (IOException | RuntimeException e) {
      lab.close();
      throw e;
    }
    return lab;
  }

  private void build(IpBatch ip) {
    String c = prefix.substring(6) + "c"; // short: interface names are at most 15 bytes
    String sv = prefix.substring(6) + "s";
    for (String ns : List.of(node, client, servers)) {
      ip.host("netns add " + ns);
      namespaces.add(ns);
    }
    ip.link(client, c, CLIENT_IP + "/24", "10.252.1.1/24");
    ip.link(servers, sv, ENDPOINT_A + "/24", "10.252.2.1/24");
    ip.in(servers, "addr add " + ENDPOINT_B + "/24 dev eth0");
    ip.in(client, "route add default via 10.252.1.1");
    ip.in(servers, "route add default via 10.252.2.1");
    if (ipv6) {
      ip.in(client, "addr add " + CLIENT_IP6 + "/64 dev eth0 nodad");
      ip.in(node, "addr add fd52:1::1/64 dev " + c + " nodad");
      ip.in(servers, "addr add " + ENDPOINT_B6 + "/64 dev eth0 nodad");
      ip.in(node, "addr add fd52:2::1/64 dev " + sv + " nodad");
      ip.in(client, "route add ::/0 via fd52:1::1");
      ip.in(servers, "route add ::/0 via fd52:2::1");
    }
  }

  /**
   * {@code ip} commands run as one {@code ip -batch} on the host and one {@code ip -n NS -batch}
   * per namespace (peers before the node), instead of a process each: in the IPVS VM a process
   * costs 0.6-1 s, a batch of ten 0.2 s.
   */
  private final class IpBatch {
    private final List<String> host = new ArrayList<>();
    private final Map<String, List<String>> byNamespace = new LinkedHashMap<>();

    void host(String command) {
      host.add(command);
    }

    void in(String ns, String command) {
      byNamespace.computeIfAbsent(ns, k -> new ArrayList<>()).add(command);
    }

    /** A veth between the node ({@code hostSide}, address {@code onNode}) and eth0 of {@code ns}. */
    void link(String ns, String hostSide, String inside, String onNode) {
      host("link add " + hostSide + " netns " + node + " type veth peer name eth0 netns " + ns);
      for (String n : List.of(ns, node)) {
        if (!byNamespace.containsKey(n)) {
          in(n, "link set lo up");
        }
      }
      in(ns, "addr add " + inside + " dev eth0");
      in(ns, "link set eth0 up");
      in(node, "addr add " + onNode + " dev " + hostSide);
      in(node, "link set " + hostSide + " up");
    }

    void run() throws IOException {
      if (!host.isEmpty()) {
        batch(List.of("ip", "-batch", "-"), host);
      }
      List<String> order = new ArrayList<>(byNamespace.keySet());
      if (order.remove(node)) {
        order.add(node);
      }
      for (String ns : order) {
        batch(List.of("ip", "-n", ns, "-batch", "-"), byNamespace.get(ns));
      }
    }

    private void batch(List<String> argv, List<String> lines) throws IOException {
      Process p = new ProcessBuilder(argv).redirectErrorStream(true).start();
      try (var in = p.getOutputStream()) {
        in.write((String.join("\n", lines) + "\n").getBytes(StandardCharsets.UTF_8));
      }
      String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      waitFor(p, argv);
      if (p.exitValue() != 0) {
        throw new IOException(String.join(" ", argv) + " exited " + p.exitValue() + ": " + out + "\ninput:\n"
            + String.join("\n", lines));
      }
    }
  }

  /**
   * Adds an "internet" namespace behind the node's uplink 203.0.113.1/24 (and .2), holding
   * 203.0.113.100 and the private 10.252.3.100, with TCP (8080) and UDP (8081) servers that answer
   * every line or datagram with the peer address they see, "ip:port".
   */
  void withInternet() throws IOException {
    IpBatch ip = new IpBatch();
    internet(ip);
    ip.run();
    startInternetServers();
  }

  private void internet(IpBatch ip) {
    String uplink = prefix.substring(6) + "i";
    ip.host("netns add " + internet);
    namespaces.add(internet);
    ip.link(internet, uplink, INTERNET_SERVER + "/24", NODE_UPLINK + "/24");
    ip.in(node, "addr add " + NODE_UPLINK_2 + "/24 dev " + uplink);
    ip.in(internet, "addr add " + PRIVATE_SERVER + "/32 dev lo");
    ip.in(node, "route add " + PRIVATE_SERVER + "/32 via " + INTERNET_SERVER);
    // Only so that un-translated pod traffic can be answered; translated traffic never needs it.
    ip.in(internet, "route add 10.252.1.0/24 via " + NODE_UPLINK);
    if (ipv6) {
      ip.in(node, "addr add " + NODE_UPLINK6 + "/64 dev " + uplink + " nodad");
      ip.in(internet, "addr add " + INTERNET_SERVER6 + "/64 dev eth0 nodad");
      ip.in(internet, "addr add " + PRIVATE_SERVER6 + "/128 dev lo");
      ip.in(node, "route add " + PRIVATE_SERVER6 + "/128 via " + INTERNET_SERVER6);
      ip.in(internet, "route add fd52:1::/64 via " + NODE_UPLINK6);
    }
  }

  private void startInternetServers() throws IOException {
    start(internet, "import socket,threading\n"
        + (ipv6 ? "u6=socket.socket(socket.AF_INET6,socket.SOCK_DGRAM)\n"
        + "u6.setsockopt(socket.IPPROTO_IPV6,socket.IPV6_V6ONLY,1); u6.bind(('::',8081))\n"
        + "def udp6():\n"
        + "  while True:\n"
        + "    d,a=u6.recvfrom(2048); u6.sendto(('[%s]:%d'%(a[0],a[1])).encode(),a)\n"
        + "threading.Thread(target=udp6,daemon=True).start()\n" : "")
        + "def tcp(c,a):\n"
        + "  f=c.makefile('rw')\n"
        + "  while f.readline():\n"
        + "    f.write('%s:%d\\n'%a); f.flush()\n"
        + "t=socket.socket(); t.setsockopt(socket.SOL_SOCKET,socket.SO_REUSEADDR,1)\n"
        + "t.bind(('0.0.0.0',8080)); t.listen(64)\n"
        + "def accept():\n"
        + "  while True:\n"
        + "    c,a=t.accept(); threading.Thread(target=tcp,args=(c,a),daemon=True).start()\n"
        + "threading.Thread(target=accept,daemon=True).start()\n"
        + "u=socket.socket(socket.AF_INET,socket.SOCK_DGRAM); u.bind(('0.0.0.0',8081))\n"
        + "print('ready',flush=True)\n"
        + "while True:\n"
        + "  d,a=u.recvfrom(2048); u.sendto(('%s:%d'%a).encode(),a)\n");
  }

  /** One datagram from the client namespace, from sport to dst:dport; no answer awaited. */
  void sendUdpOnce(String dst, int dport, int sport) throws IOException {
    boolean v6 = dst.contains(":");
    in(client, "python3", "-c", "import socket\n"
        + "s=socket.socket(socket." + (v6 ? "AF_INET6" : "AF_INET") + ",socket.SOCK_DGRAM)\n"
        + "s.bind(('" + (v6 ? "::" : "0.0.0.0") + "'," + sport + "))\n"
        + "s.sendto(b'x',('" + dst + "'," + dport + "))\n");
  }

  /**
   * One UDP question from the pod to ip:8081, from a fresh socket (a new flow each time): the
   * source address the server saw, or "ERR ..." when nothing came back within 2 s. One python
   * process in the pod answers every question (a process per question costs a second in the VM).
   */
  String askUdp(String ip) throws IOException {
    if (asker == null) {
      asker = start(client, "import socket,sys\n"
          + "print('ready',flush=True)\n"
          + "for l in sys.stdin:\n"
          + "  ip=l.strip(); s=socket.socket(socket.AF_INET6 if ':' in ip else socket.AF_INET,socket.SOCK_DGRAM)\n"
          + "  s.settimeout(2)\n"
          + "  try:\n"
          + "    s.sendto(b'?',(ip,8081)); print(s.recvfrom(2048)[0].decode(),flush=True)\n"
          + "  except OSError as e: print('ERR %s'%e,flush=True)\n"
          + "  s.close()\n");
    }
    var in = asker.process().getOutputStream();
    in.write((ip + "\n").getBytes(StandardCharsets.UTF_8));
    in.flush();
    String answer = asker.out().readLine();
    if (answer == null) {
      throw new IOException("the UDP asker in " + client + " exited");
    }
    return answer.trim();
  }

  /** A TCP client in the pod on one connection to ip:8080, asking every 100 ms. */
  Running tcpClient(String ip) throws IOException {
    return start(client, "import socket,time\n"
        + "s=socket.create_connection(('" + ip + "',8080),timeout=2); f=s.makefile('rw')\n"
        + "print('ready',flush=True)\n"
        + "while True:\n"
        + "  f.write('?\\n'); f.flush(); print(f.readline().strip(),flush=True); time.sleep(0.1)\n");
  }

  Path nodeNetns() {
    return Path.of("/var/run/netns", node);
  }

  private static List<String> inNetns(String ns, String... argv) {
    List<String> full = new ArrayList<>(List.of("ip", "netns", "exec", ns));
    full.addAll(List.of(argv));
    return full;
  }

  void in(String ns, String... argv) throws IOException {
    run(true, inNetns(ns, argv).toArray(String[]::new));
  }

  String out(String ns, String... argv) throws IOException {
    List<String> full = inNetns(ns, argv);
    Process p = new ProcessBuilder(full).redirectErrorStream(true).start();
    String s = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    waitFor(p, full);
    return s;
  }

  /** A UDP server in the server namespace on ip:port answering every datagram with {@code name}. */
  Running udpServer(String ip, int port, String name) throws IOException {
    return start(servers, "import socket,sys\n"
        + "s=socket.socket(socket.AF_INET,socket.SOCK_DGRAM)\n"
        + "s.bind((sys.argv[1],int(sys.argv[2])))\n"
        + "print('ready',flush=True)\n"
        + "while True:\n"
        + "  d,a=s.recvfrom(2048)\n"
        + "  s.sendto(sys.argv[3].encode(),a)\n", ip, Integer.toString(port), name);
  }

  /**
   * A UDP client in the client namespace sending from one fixed source port every 100 ms (so
   * its conntrack entry never expires) and printing every answer it gets.
   */
  Running udpClient(String dst, int port, int srcPort) throws IOException {
    return start(client, "import socket,sys,time\n"
        + "s=socket.socket(socket.AF_INET,socket.SOCK_DGRAM)\n"
        + "s.bind(('0.0.0.0',int(sys.argv[3])))\n"
        + "print('ready',flush=True)\n"
        + "while True:\n"
        + "  try: s.sendto(b'ping',(sys.argv[1],int(sys.argv[2])))\n"
        + "  except OSError: pass\n"
        + "  end=time.monotonic()+0.1\n"
        + "  while True:\n"
        + "    rem=end-time.monotonic()\n"
        + "    if rem<=0: break\n"
        + "    s.settimeout(rem)\n"
        + "    try:\n"
        + "      d,a=s.recvfrom(2048)\n"
        + "      print(d.decode(),flush=True)\n"
        + "    except socket.timeout: break\n"
        + "    except OSError: pass\n", dst, Integer.toString(port), Integer.toString(srcPort));
  }

  private Running start(String ns, String script, String... args) throws IOException {
    List<String> argv = new ArrayList<>(List.of("ip", "netns", "exec", ns, "python3", "-u", "-c", script));
    argv.addAll(List.of(args));
    Process p = new ProcessBuilder(argv).redirectErrorStream(true).start();
    processes.add(p);
    BufferedReader r = p.inputReader(StandardCharsets.UTF_8);
    String first = r.readLine();
    if (!"ready".equals(first)) {
      p.destroy();
      String rest = r.lines().reduce(first == null ? "" : first, (a, b) -> a + "\n" + b);
      throw new IOException("process in " + ns + " did not start: " + rest);
    }
    return new Running(p, r);
  }

  static void stop(Process p) {
    p.destroy();
    try {
      if (!p.waitFor(5, TimeUnit.SECONDS)) {
        p.destroyForcibly();
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  static boolean run(boolean check, String... argv) throws IOException {
    Process p = new ProcessBuilder(argv).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    waitFor(p, List.of(argv));
    if (check && p.exitValue() != 0) {
      throw new IOException(String.join(" ", argv) + " exited " + p.exitValue() + ": " + out);
    }
    return p.exitValue() == 0;
  }

  private static void waitFor(Process p, List<String> argv) throws IOException {
    try {
      if (!p.waitFor(30, TimeUnit.SECONDS)) {
        p.destroyForcibly();
        throw new IOException("timed out: " + String.join(" ", argv));
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IOException(e);
    }
  }

  @Override
  public void close() {
    for (Process p : processes) {
      stop(p);
    }
    List<String> reversed = new ArrayList<>(namespaces);
    Collections.reverse(reversed);
    for (String ns : reversed) {
      try {
        run(false, "ip", "netns", "del", ns);
      } catch (IOException e) {
        System.err.println("could not delete namespace " + ns + ": " + e.getMessage());
      }
    }
  }
}
