package dev.turnpike.dataplane.iptables;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;

/**
 * Network namespaces for real-kernel tests: a node namespace with a bridge for pods (each pod a
 * namespace behind a veth, /32 address, routed through the node as CNI plugins do), and a client
 * namespace off the node. Addresses come only from 10.250.0.0/16 and TEST-NET-2 198.51.100.0/24,
 * and all live inside the namespaces created here; nothing is sent anywhere else.
 */
public final class KernelLab implements AutoCloseable {
  public static final String NODE_IP = "198.51.100.1";
  public static final String CLIENT_IP = "198.51.100.2";
  public static final String GATEWAY = "10.250.1.1";

  final String prefix = "tp-test-" + Integer.toHexString(ThreadLocalRandom.current().nextInt(0x10000, 0xfffff));
  public final String node = prefix + "-node";
  public final String client = prefix + "-cl";
  private final List<String> namespaces = new ArrayList<>();
  private final List<Process> servers = new ArrayList<>();

  /** Root with ip, iptables and python3 present: the real-kernel tier can run. */
  public static boolean available() {
    try {
      return new ProcessBuilder("id", "-u").start().inputReader().readLine().trim().equals("0")
          && run(false, "ip", "-V") && run(false, "iptables-restore", "--version") && run(false, "python3", "-V");
    } catch (IOException e) {
      return false;
    }
  }

  public static boolean run(boolean check, String... argv) throws IOException {
    Process p = new ProcessBuilder(argv).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    try {
      if (!p.waitFor(30, TimeUnit.SECONDS)) {
        p.destroyForcibly();
        throw new IOException("timed out: " + String.join(" ", argv));
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IOException(e);
    }
    if (check && p.exitValue() != 0) {
      throw new IOException(String.join(" ", argv) + " exited " + p.exitValue() + ": " + out);
    }
    return p.exitValue() == 0;
  }

  public void in(String ns, String... argv) throws IOException {
    List<String> full = new ArrayList<>(List.of("ip", "netns", "exec", ns));
    full.addAll(List.of(argv));
    run(true, full.toArray(String[]::new));
  }

  public String output(String ns, String... argv) throws IOException {
    List<String> full = new ArrayList<>(List.of("ip", "netns", "exec", ns));
    full.addAll(List.of(argv));
    Process p = new ProcessBuilder(full).redirectErrorStream(true).start();
    return new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
  }

  private void addNamespace(String ns) throws IOException {
    run(true, "ip", "netns", "add", ns);
    namespaces.add(ns);
    in(ns, "ip", "link", "set", "lo", "up");
  }

  /** Creates the node and client namespaces. */
  public void start() throws IOException {
    addNamespace(node);
    addNamespace(client);
    in(node, "sysctl", "-q", "-w", "net.ipv4.ip_forward=1");
    // The node routes pod and ClusterIP traffic back out of the interface it came in on; ICMP
    // redirects would teach the sender a shortcut past the node (and eat the ICMP rate limit that
    // REJECT's port-unreachable needs).
    for (String key : List.of("all", "default")) {
      in(node, "sysctl", "-q", "-w", "net.ipv4.conf." + key + ".send_redirects=0");
    }
    in(node, "sysctl", "-q", "-w", "net.ipv4.icmp_ratelimit=0");
    in(node, "ip", "link", "add", "br0", "type", "bridge");
    in(node, "ip", "addr", "add", GATEWAY + "/24", "dev", "br0");
    in(node, "ip", "link", "set", "br0", "up");
    in(node, "ip", "link", "add", "ext0", "type", "veth", "peer", "name", "eth0", "netns", client);
    in(node, "ip", "addr", "add", NODE_IP + "/24", "dev", "ext0");
    in(node, "ip", "link", "set", "ext0", "up");
    in(client, "ip", "addr", "add", CLIENT_IP + "/24", "dev", "eth0");
    in(client, "ip", "link", "set", "eth0", "up");
    in(client, "ip", "route", "add", "default", "via", NODE_IP);
    // ClusterIPs are not on any link: send them back towards the client, which drops them, so
    // only Turnpike's DNAT or REJECT can answer (like a node's default route upstream).
    in(node, "ip", "route", "add", "10.250.96.0/24", "via", CLIENT_IP);
    in(node, "ip", "route", "add", "10.250.100.0/24", "via", CLIENT_IP);
  }

  /** Adds a pod namespace with address 10.250.1.N behind the node's bridge; returns its namespace. */
  public String addPod(String name, int n) throws IOException {
    String ns = prefix + "-" + name;
    addNamespace(ns);
    String hostSide = "v" + name + Integer.toHexString(n);
    in(node, "ip", "link", "add", hostSide, "type", "veth", "peer", "name", "eth0", "netns", ns);
    in(node, "ip", "link", "set", hostSide, "master", "br0");
    // Hairpin mode, as the CNI bridge plugin's hairpinMode sets it: with bridge netfilter a pod
    // DNATed to itself is sent back out of the port it came from.
    in(node, "ip", "link", "set", hostSide, "type", "bridge_slave", "hairpin", "on");
    in(node, "ip", "link", "set", hostSide, "up");
    in(ns, "ip", "addr", "add", "10.250.1." + n + "/32", "dev", "eth0");
    in(ns, "ip", "link", "set", "eth0", "up");
    // /32 plus an on-link gateway: pod-to-pod traffic is routed by the node, so replies to
    // DNATed connections always pass the node's conntrack.
    in(ns, "ip", "route", "add", GATEWAY, "dev", "eth0", "scope", "link");
    in(ns, "ip", "route", "add", "default", "via", GATEWAY, "dev", "eth0");
    in(node, "ip", "route", "replace", "10.250.1." + n + "/32", "dev", "br0");
    return ns;
  }

  static final String SERVER =
      "import socket,sys,threading\n"
          + "name=sys.argv[1];port=int(sys.argv[2])\n"
          + "def udp():\n"
          + "  u=socket.socket(socket.AF_INET,socket.SOCK_DGRAM);u.bind(('',port))\n"
          + "  while True:\n"
          + "    d,a=u.recvfrom(100);u.sendto(('%s %s\\n'%(name,a[0])).encode(),a)\n"
          + "threading.Thread(target=udp,daemon=True).start()\n"
          + "s=socket.socket();s.setsockopt(socket.SOL_SOCKET,socket.SO_REUSEADDR,1);s.bind(('',port));s.listen(1024)\n"
          + "print('ready',flush=True)\n"
          + "while True:\n"
          + "  c,a=s.accept()\n"
          + "  try:\n"
          + "    c.sendall(('%s %s\\n'%(name,a[0])).encode())\n"
          + "  except OSError:\n"
          + "    pass\n"
          + "  c.close()\n";

  /** Starts a TCP+UDP server in {@code ns} that answers "NAME PEER-IP". */
  public void serve(String ns, String name, int port) throws IOException {
    Process p = new ProcessBuilder("ip", "netns", "exec", ns, "python3", "-u", "-c", SERVER, name, String.valueOf(port))
        .redirectErrorStream(true).start();
    servers.add(p);
    BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
    String line = r.readLine();
    if (!"ready".equals(line)) {
      throw new IOException("server " + name + " did not start: " + line);
    }
  }

  static final String CLIENT =
      "import socket,sys,time,struct\n"
          + "dst,port,count,timeout,proto,sport=sys.argv[1],int(sys.argv[2]),int(sys.argv[3]),float(sys.argv[4]),sys.argv[5],int(sys.argv[6])\n"
          + "for i in range(count):\n"
          + "  t=time.time()\n"
          + "  try:\n"
          + "    if proto=='tcp':\n"
          + "      s=socket.socket();s.settimeout(timeout)\n"
          + "      s.setsockopt(socket.SOL_SOCKET,socket.SO_REUSEADDR,1)\n"
          + "      s.setsockopt(socket.SOL_SOCKET,socket.SO_LINGER,struct.pack('ii',1,0))\n"
          + "      if sport: s.bind(('',sport+i))\n"
          + "      s.connect((dst,port));data=b''\n"
          + "      while not data.endswith(b'\\n'):\n"
          + "        chunk=s.recv(100)\n"
          + "        if not chunk: break\n"
          + "        data+=chunk\n"
          + "      s.close();print(data.decode().strip())\n"
          + "    else:\n"
          + "      u=socket.socket(socket.AF_INET,socket.SOCK_DGRAM);u.settimeout(timeout)\n"
          + "      if sport: u.bind(('',sport+i))\n"
          + "      u.sendto(b'x',(dst,port));d,a=u.recvfrom(100);u.close();print(d.decode().strip())\n"
          + "  except ConnectionRefusedError:\n"
          + "    print('ERR refused %.3f'%(time.time()-t))\n"
          + "  except socket.timeout:\n"
          + "    print('ERR timeout')\n"
          + "  except OSError as e:\n"
          + "    print('ERR '+str(e.errno))\n";

  /**
   * Opens {@code count} connections from {@code ns} and returns one answer per connection ("NAME
   * PEER" or "ERR ..."); with sport &gt; 0 connection i uses source port sport+i.
   */
  public List<String> connect(String ns, String proto, String dst, int port, int count, double timeout, int sport) throws IOException {
    String out = output(ns, "python3", "-c", CLIENT, dst, String.valueOf(port), String.valueOf(count), String.valueOf(timeout), proto, String.valueOf(sport));
    List<String> lines = new ArrayList<>(out.lines().toList());
    if (lines.size() != count) {
      throw new IOException("client printed " + lines.size() + " of " + count + " lines: " + out);
    }
    return lines;
  }

  /** iptables-save of the node namespace without comments and counters, for before/after comparison. */
  public String saveNode() throws IOException {
    return output(node, "iptables-save").lines()
        .filter(l -> !l.startsWith("#"))
        .map(l -> l.replaceAll("\\[\\d+:\\d+\\]", "[0:0]"))
        .reduce("", (a, b) -> a + b + "\n");
  }

  @Override
  public void close() {
    if (Boolean.getBoolean("lab.keep")) {
      return; // debugging: leave the namespaces for inspection (delete them by hand)
    }
    for (Process p : servers) {
      p.destroyForcibly();
    }
    for (Process p : servers) {
      try {
        p.waitFor(5, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
    for (int i = namespaces.size() - 1; i >= 0; i--) {
      String ns = namespaces.get(i);
      try {
        run(false, "ip", "netns", "del", ns);
      } catch (IOException e) {
        // best effort: keep deleting the others
      }
    }
  }
}
