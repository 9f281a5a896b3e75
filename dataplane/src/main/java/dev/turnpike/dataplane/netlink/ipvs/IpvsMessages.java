package dev.turnpike.dataplane.netlink.ipvs;

import dev.turnpike.dataplane.netlink.Netlink;
import dev.turnpike.dataplane.netlink.NetlinkMessage;
import dev.turnpike.dataplane.netlink.NetlinkParseException;
import dev.turnpike.dataplane.netlink.NetlinkRequest;
import dev.turnpike.dataplane.netlink.NlAttr;
import dev.turnpike.dataplane.netlink.NlAttrs;
import dev.turnpike.dataplane.netlink.NlMsgBuilder;
import dev.turnpike.dataplane.netlink.genl.GenlFamily;
import dev.turnpike.dataplane.netlink.genl.GenlMsgHdr;
import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;

/**
 * The IPVS generic-netlink codec (linux/ip_vs.h; attribute types from ip_vs_ctl.c's policies).
 * Byte order: attribute numbers, AF, PROTOCOL, FWMARK, FLAGS, TIMEOUT, FWD_METHOD, WEIGHT and the
 * counters are host order; PORT is network order (__be16); ADDR is 16 raw bytes with an IPv4
 * address in the first 4; NETMASK is a network-order mask for IPv4 but, as the kernel compares
 * it, a host-order prefix length for IPv6.
 */
public final class IpvsMessages {
  public static final String FAMILY_NAME = "IPVS";
  public static final int GENL_VERSION = 1;

  public static final int IPVS_CMD_NEW_SERVICE = 1;
  public static final int IPVS_CMD_SET_SERVICE = 2;
  public static final int IPVS_CMD_DEL_SERVICE = 3;
  public static final int IPVS_CMD_GET_SERVICE = 4;
  public static final int IPVS_CMD_NEW_DEST = 5;
  public static final int IPVS_CMD_SET_DEST = 6;
  public static final int IPVS_CMD_DEL_DEST = 7;
  public static final int IPVS_CMD_GET_DEST = 8;
  public static final int IPVS_CMD_SET_CONFIG = 12;
  public static final int IPVS_CMD_GET_CONFIG = 13;

  public static final int IPVS_CMD_ATTR_SERVICE = 1;
  public static final int IPVS_CMD_ATTR_DEST = 2;
  public static final int IPVS_CMD_ATTR_TIMEOUT_TCP = 4;
  public static final int IPVS_CMD_ATTR_TIMEOUT_TCP_FIN = 5;
  public static final int IPVS_CMD_ATTR_TIMEOUT_UDP = 6;

  public static final int IPVS_SVC_ATTR_AF = 1;
  public static final int IPVS_SVC_ATTR_PROTOCOL = 2;
  public static final int IPVS_SVC_ATTR_ADDR = 3;
  public static final int IPVS_SVC_ATTR_PORT = 4;
  public static final int IPVS_SVC_ATTR_FWMARK = 5;
  public static final int IPVS_SVC_ATTR_SCHED_NAME = 6;
  public static final int IPVS_SVC_ATTR_FLAGS = 7;
  public static final int IPVS_SVC_ATTR_TIMEOUT = 8;
  public static final int IPVS_SVC_ATTR_NETMASK = 9;

  public static final int IPVS_DEST_ATTR_ADDR = 1;
  public static final int IPVS_DEST_ATTR_PORT = 2;
  public static final int IPVS_DEST_ATTR_FWD_METHOD = 3;
  public static final int IPVS_DEST_ATTR_WEIGHT = 4;
  public static final int IPVS_DEST_ATTR_U_THRESH = 5;
  public static final int IPVS_DEST_ATTR_L_THRESH = 6;
  public static final int IPVS_DEST_ATTR_ACTIVE_CONNS = 7;
  public static final int IPVS_DEST_ATTR_INACT_CONNS = 8;
  public static final int IPVS_DEST_ATTR_PERSIST_CONNS = 9;
  public static final int IPVS_DEST_ATTR_ADDR_FAMILY = 11;

  public static final int IP_VS_SVC_F_PERSISTENT = 0x0001;
  public static final int IP_VS_SVC_F_HASHED = 0x0002;
  public static final int IP_VS_SVC_F_ONEPACKET = 0x0004;
  /** For mh (and sh): fall back to another destination when the chosen one is unavailable. */
  public static final int IP_VS_SVC_F_SCHED1 = 0x0008;
  /** For mh (and sh): hash the source port as well as the address. */
  public static final int IP_VS_SVC_F_SCHED2 = 0x0010;
  public static final int IP_VS_SVC_F_SCHED3 = 0x0020;
  public static final int IP_VS_SVC_F_SCHED_MH_FALLBACK = IP_VS_SVC_F_SCHED1;
  public static final int IP_VS_SVC_F_SCHED_MH_PORT = IP_VS_SVC_F_SCHED2;

  public static final int IP_VS_SCHEDNAME_MAXLEN = 16;
  private static final int ADDR_LEN = 16;
  private static final int FWD_MASK = 0x7;

  private final int familyId;

  /** @param familyId the IPVS family id resolved in the target namespace's kernel */
  public IpvsMessages(int familyId) {
    this.familyId = familyId;
  }

  public IpvsMessages(GenlFamily family) {
    this(family.id());
  }

  public NetlinkRequest newService(VirtualServer s) {
    return serviceRequest(IPVS_CMD_NEW_SERVICE, "IPVS_CMD_NEW_SERVICE", s);
  }

  public NetlinkRequest setService(VirtualServer s) {
    return serviceRequest(IPVS_CMD_SET_SERVICE, "IPVS_CMD_SET_SERVICE", s);
  }

  public NetlinkRequest delService(VirtualServerKey k) {
    return request(IPVS_CMD_DEL_SERVICE, 0, "IPVS_CMD_DEL_SERVICE " + k)
        .nested(IPVS_CMD_ATTR_SERVICE, b -> serviceKey(b, k))
        .build();
  }

  /** Dump of all services; replies are IPVS_CMD_NEW_SERVICE messages. */
  public NetlinkRequest getServices() {
    return request(IPVS_CMD_GET_SERVICE, Netlink.NLM_F_DUMP, "IPVS_CMD_GET_SERVICE dump")
        .build();
  }

  public NetlinkRequest newDest(VirtualServerKey k, RealServer d) {
    return destRequest(IPVS_CMD_NEW_DEST, "IPVS_CMD_NEW_DEST", k, d);
  }

  public NetlinkRequest setDest(VirtualServerKey k, RealServer d) {
    return destRequest(IPVS_CMD_SET_DEST, "IPVS_CMD_SET_DEST", k, d);
  }

  public NetlinkRequest delDest(VirtualServerKey k, InetAddress address, int port) {
    return request(IPVS_CMD_DEL_DEST, 0, "IPVS_CMD_DEL_DEST " + k + " -> "
            + address.getHostAddress() + ":" + port)
        .nested(IPVS_CMD_ATTR_SERVICE, b -> serviceKey(b, k))
        .nested(IPVS_CMD_ATTR_DEST, b -> destKey(b, address, port))
        .build();
  }

  /** Dump of one service's destinations; replies are IPVS_CMD_NEW_DEST messages. */
  public NetlinkRequest getDests(VirtualServerKey k) {
    return request(IPVS_CMD_GET_DEST, Netlink.NLM_F_DUMP, "IPVS_CMD_GET_DEST dump " + k)
        .nested(IPVS_CMD_ATTR_SERVICE, b -> serviceKey(b, k))
        .build();
  }

  /** Sets the timeouts; a 0 leaves that one as it is. */
  public NetlinkRequest setConfig(IpvsTimeouts t) {
    return request(IPVS_CMD_SET_CONFIG, 0, "IPVS_CMD_SET_CONFIG")
        .u32(IPVS_CMD_ATTR_TIMEOUT_TCP, t.tcpSeconds())
        .u32(IPVS_CMD_ATTR_TIMEOUT_TCP_FIN, t.tcpFinSeconds())
        .u32(IPVS_CMD_ATTR_TIMEOUT_UDP, t.udpSeconds())
        .build();
  }

  /** Replied to with one IPVS_CMD_SET_CONFIG message. */
  public NetlinkRequest getConfig() {
    return request(IPVS_CMD_GET_CONFIG, 0, "IPVS_CMD_GET_CONFIG").build();
  }

  /** Parses one message of a service dump. */
  public VirtualServer parseService(NetlinkMessage m) {
    try {
      return service(m);
    } catch (IllegalArgumentException e) {
      // A record refused a value the kernel should never send (protocol 0, a v6 address in v4...).
      throw new NetlinkParseException("IPVS service at offset " + m.offset() + ": "
          + e.getMessage());
    }
  }

  private VirtualServer service(NetlinkMessage m) {
    NlAttrs svc = commandAttrs(m, IPVS_CMD_NEW_SERVICE)
        .require(IPVS_CMD_ATTR_SERVICE, "IPVS_CMD_ATTR_SERVICE").nested();
    int af = svc.require(IPVS_SVC_ATTR_AF, "IPVS_SVC_ATTR_AF").u16();
    if (af != Netlink.AF_INET && af != Netlink.AF_INET6) {
      throw new NetlinkParseException("IPVS service at offset " + m.offset()
          + " has address family " + af);
    }
    int fwmark = svc.find(IPVS_SVC_ATTR_FWMARK).map(NlAttr::u32).orElse(0);
    VirtualServerKey key = fwmark != 0 ? VirtualServerKey.ofFwmark(af, fwmark)
        : new VirtualServerKey(af,
            svc.require(IPVS_SVC_ATTR_PROTOCOL, "IPVS_SVC_ATTR_PROTOCOL").u16(),
            address(svc.require(IPVS_SVC_ATTR_ADDR, "IPVS_SVC_ATTR_ADDR"), af),
            svc.require(IPVS_SVC_ATTR_PORT, "IPVS_SVC_ATTR_PORT").be16(), 0);
    ByteBuffer flags = flagsStruct(svc.require(IPVS_SVC_ATTR_FLAGS, "IPVS_SVC_ATTR_FLAGS"));
    NlAttr netmask = svc.require(IPVS_SVC_ATTR_NETMASK, "IPVS_SVC_ATTR_NETMASK");
    int prefix = af == Netlink.AF_INET ? Integer.bitCount(netmask.be32()) : netmask.u32();
    if (prefix < 0 || prefix > (af == Netlink.AF_INET ? 32 : 128)) {
      throw new NetlinkParseException("IPVS netmask at offset " + netmask.offset() + ": /"
          + prefix);
    }
    return new VirtualServer(key,
        svc.require(IPVS_SVC_ATTR_SCHED_NAME, "IPVS_SVC_ATTR_SCHED_NAME").string(),
        flags.getInt(0) & ~IP_VS_SVC_F_HASHED, // kernel bookkeeping, never ours to set
        svc.require(IPVS_SVC_ATTR_TIMEOUT, "IPVS_SVC_ATTR_TIMEOUT").u32(),
        prefix);
  }

  /**
   * Parses one message of a destination dump; {@code serviceFamily} is the address family when
   * the kernel predates IPVS_DEST_ATTR_ADDR_FAMILY.
   */
  public RealServer parseDest(NetlinkMessage m, int serviceFamily) {
    NlAttrs d = commandAttrs(m, IPVS_CMD_NEW_DEST)
        .require(IPVS_CMD_ATTR_DEST, "IPVS_CMD_ATTR_DEST").nested();
    int af = d.find(IPVS_DEST_ATTR_ADDR_FAMILY).map(NlAttr::u16).orElse(serviceFamily);
    NlAttr fwdAttr = d.require(IPVS_DEST_ATTR_FWD_METHOD, "IPVS_DEST_ATTR_FWD_METHOD");
    ForwardMethod fwd = ForwardMethod.of(fwdAttr.u32() & FWD_MASK);
    if (fwd == null) {
      throw new NetlinkParseException("IPVS_DEST_ATTR_FWD_METHOD at offset " + fwdAttr.offset()
          + " is " + fwdAttr.u32());
    }
    int weight = d.require(IPVS_DEST_ATTR_WEIGHT, "IPVS_DEST_ATTR_WEIGHT").u32();
    if (weight < 0) {
      throw new NetlinkParseException("IPVS destination weight " + weight + " at offset "
          + m.offset());
    }
    return new RealServer(
        address(d.require(IPVS_DEST_ATTR_ADDR, "IPVS_DEST_ATTR_ADDR"), af),
        d.require(IPVS_DEST_ATTR_PORT, "IPVS_DEST_ATTR_PORT").be16(),
        fwd,
        weight,
        d.require(IPVS_DEST_ATTR_U_THRESH, "IPVS_DEST_ATTR_U_THRESH").u32(),
        d.require(IPVS_DEST_ATTR_L_THRESH, "IPVS_DEST_ATTR_L_THRESH").u32(),
        new RealServer.Connections(
            d.find(IPVS_DEST_ATTR_ACTIVE_CONNS).map(NlAttr::u32).orElse(0),
            d.find(IPVS_DEST_ATTR_INACT_CONNS).map(NlAttr::u32).orElse(0),
            d.find(IPVS_DEST_ATTR_PERSIST_CONNS).map(NlAttr::u32).orElse(0)));
  }

  /** Parses the IPVS_CMD_SET_CONFIG reply to {@link #getConfig()}. */
  public IpvsTimeouts parseConfig(NetlinkMessage m) {
    NlAttrs a = commandAttrs(m, IPVS_CMD_SET_CONFIG);
    int tcp = a.require(IPVS_CMD_ATTR_TIMEOUT_TCP, "IPVS_CMD_ATTR_TIMEOUT_TCP").u32();
    int fin = a.require(IPVS_CMD_ATTR_TIMEOUT_TCP_FIN, "IPVS_CMD_ATTR_TIMEOUT_TCP_FIN").u32();
    int udp = a.require(IPVS_CMD_ATTR_TIMEOUT_UDP, "IPVS_CMD_ATTR_TIMEOUT_UDP").u32();
    if (tcp < 0 || fin < 0 || udp < 0) {
      throw new NetlinkParseException("negative IPVS timeout at offset " + m.offset());
    }
    return new IpvsTimeouts(tcp, fin, udp);
  }

  static int familyOf(InetAddress a) {
    return a instanceof Inet4Address ? Netlink.AF_INET : Netlink.AF_INET6;
  }

  private NlMsgBuilder request(int cmd, int flags, String description) {
    return GenlMsgHdr.request(familyId, cmd, GENL_VERSION, flags, description);
  }

  private NetlinkRequest serviceRequest(int cmd, String name, VirtualServer s) {
    return request(cmd, 0, name + " " + s.key())
        .nested(IPVS_CMD_ATTR_SERVICE, b -> {
          serviceKey(b, s.key());
          b.string(IPVS_SVC_ATTR_SCHED_NAME, s.scheduler());
          // struct ip_vs_flags {flags; mask}: the mask says which bits to take; all of them.
          b.bytes(IPVS_SVC_ATTR_FLAGS, ByteBuffer.allocate(8).order(ByteOrder.nativeOrder())
              .putInt(s.flags()).putInt(~0).array());
          b.u32(IPVS_SVC_ATTR_TIMEOUT, s.timeoutSeconds());
          if (s.key().family() == Netlink.AF_INET) {
            b.be32(IPVS_SVC_ATTR_NETMASK, (int) (0xffffffffL << (32 - s.netmaskPrefix())));
          } else {
            b.u32(IPVS_SVC_ATTR_NETMASK, s.netmaskPrefix());
          }
        })
        .build();
  }

  private NetlinkRequest destRequest(int cmd, String name, VirtualServerKey k, RealServer d) {
    return request(cmd, 0, name + " " + k + " -> " + d.address().getHostAddress() + ":"
            + d.port())
        .nested(IPVS_CMD_ATTR_SERVICE, b -> serviceKey(b, k))
        .nested(IPVS_CMD_ATTR_DEST, b -> {
          destKey(b, d.address(), d.port());
          b.u32(IPVS_DEST_ATTR_FWD_METHOD, d.forward().code());
          b.u32(IPVS_DEST_ATTR_WEIGHT, d.weight());
          b.u32(IPVS_DEST_ATTR_U_THRESH, d.upperThreshold());
          b.u32(IPVS_DEST_ATTR_L_THRESH, d.lowerThreshold());
        })
        .build();
  }

  private static void serviceKey(NlMsgBuilder b, VirtualServerKey k) {
    b.u16(IPVS_SVC_ATTR_AF, k.family());
    if (k.isFwmark()) {
      b.u32(IPVS_SVC_ATTR_FWMARK, k.fwmark());
    } else {
      b.u16(IPVS_SVC_ATTR_PROTOCOL, k.protocol());
      b.bytes(IPVS_SVC_ATTR_ADDR, padded(k.address()));
      b.be16(IPVS_SVC_ATTR_PORT, k.port());
    }
  }

  private static void destKey(NlMsgBuilder b, InetAddress address, int port) {
    b.bytes(IPVS_DEST_ATTR_ADDR, padded(address));
    b.be16(IPVS_DEST_ATTR_PORT, port);
    b.u16(IPVS_DEST_ATTR_ADDR_FAMILY, familyOf(address));
  }

  /** union nf_inet_addr: 16 bytes, an IPv4 address in the first 4. */
  private static byte[] padded(InetAddress a) {
    return Arrays.copyOf(a.getAddress(), ADDR_LEN);
  }

  private static InetAddress address(NlAttr a, int af) {
    if (af != Netlink.AF_INET && af != Netlink.AF_INET6) {
      throw new NetlinkParseException("address family " + af + " for the address at offset "
          + a.offset());
    }
    byte[] raw = a.bytes();
    int need = af == Netlink.AF_INET ? 4 : 16;
    if (raw.length != ADDR_LEN && raw.length != need) {
      throw new NetlinkParseException("address at offset " + a.offset() + " has " + raw.length
          + " bytes, expected " + ADDR_LEN);
    }
    try {
      return InetAddress.getByAddress(Arrays.copyOf(raw, need));
    } catch (UnknownHostException e) {
      throw new NetlinkParseException("address at offset " + a.offset());
    }
  }

  private static ByteBuffer flagsStruct(NlAttr a) {
    if (a.length() != 8) {
      throw new NetlinkParseException("IPVS_SVC_ATTR_FLAGS at offset " + a.offset() + " has "
          + a.length() + " bytes, struct ip_vs_flags has 8");
    }
    return a.payload();
  }

  private NlAttrs commandAttrs(NetlinkMessage m, int cmd) {
    if (m.type() != familyId) {
      throw new NetlinkParseException("message at offset " + m.offset() + " has type "
          + m.type() + ", not the IPVS family " + familyId);
    }
    GenlMsgHdr h = GenlMsgHdr.of(m);
    if (h.cmd() != cmd) {
      throw new NetlinkParseException("IPVS message at offset " + m.offset() + " has command "
          + h.cmd() + ", expected " + cmd);
    }
    return GenlMsgHdr.attrs(m);
  }
}
