package dev.turnpike.dataplane.netlink;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.List;

/**
 * Reply vectors shaped like what the kernel sends, annotated field by field (little-endian host),
 * shared by the golden, truncation and fuzz tests; and a helper that captures the exact bytes the
 * client puts on the wire for a request. Sequence 1, port id 77 (0x4d) throughout.
 */
public final class GoldenVectors {
  private GoldenVectors() {}

  public static final int PORT = 77;
  /** The id the IPVS family gets in these vectors; the kernel assigns it at module load. */
  public static final int IPVS_FAMILY_ID = 0x23;

  /** The kernel refusing RTM_NEWLINK "dummy" on a kernel without CONFIG_DUMMY, with extack. */
  public static final String ERROR_EOPNOTSUPP =
      "3c00 0000" // nlmsg_len 60
          + "0200" // nlmsg_type NLMSG_ERROR
          + "0003" // nlmsg_flags NLM_F_CAPPED | NLM_F_ACK_TLVS
          + "0100 0000" // nlmsg_seq 1
          + "4d00 0000" // nlmsg_pid 77
          + "a1ff ffff" // error -95 (EOPNOTSUPP)
          + "4400 0000 1000 0506 0100 0000 4d00 0000" // echoed request: len 68, RTM_NEWLINK,
          // REQUEST|ACK|EXCL|CREATE, seq 1, pid 77 (capped: no body)
          + "1800 0100" // NLMSGERR_ATTR_MSG, len 24
          + "556e6b6e6f776e20646576696365207479706500"; // "Unknown device type\0"

  /** CTRL_CMD_NEWFAMILY for "nlctrl", attributes in the order ctrl_fill_info puts them. */
  public static final String GETFAMILY_REPLY =
      "7400 0000" // nlmsg_len 116
          + "1000" // nlmsg_type GENL_ID_CTRL
          + "0000" // nlmsg_flags
          + "0100 0000" // nlmsg_seq 1
          + "4d00 0000" // nlmsg_pid 77
          + "01 02 0000" // genlmsghdr: cmd CTRL_CMD_NEWFAMILY, version 2, reserved
          + "0b00 0200 6e6c6374726c00 00" // CTRL_ATTR_FAMILY_NAME "nlctrl\0" + 1 pad
          + "0600 0100 1000 0000" // CTRL_ATTR_FAMILY_ID u16 16 + 2 pad
          + "0800 0300 0200 0000" // CTRL_ATTR_VERSION 2
          + "0800 0400 0000 0000" // CTRL_ATTR_HDRSIZE 0
          + "0800 0500 0a00 0000" // CTRL_ATTR_MAXATTR 10
          + "1800 0600" // CTRL_ATTR_OPS (nest without NLA_F_NESTED, as the kernel sends it)
          + "1400 0100" // . op #1
          + "0800 0100 0300 0000" // . . CTRL_ATTR_OP_ID 3
          + "0800 0200 0e00 0000" // . . CTRL_ATTR_OP_FLAGS 0x0e
          + "1c00 0700" // CTRL_ATTR_MCAST_GROUPS
          + "1800 0100" // . group #1
          + "0b00 0100 6e6f7469667900 00" // . . CTRL_ATTR_MCAST_GRP_NAME "notify\0" + 1 pad
          + "0800 0200 1000 0000"; // . . CTRL_ATTR_MCAST_GRP_ID 16

  /** One message of an IPVS_CMD_GET_DEST dump: a draining destination (weight 0). */
  public static final String IPVS_DEST_REPLY =
      "9c00 0000" // nlmsg_len 156
          + "2300" // nlmsg_type: the IPVS family id
          + "0200" // nlmsg_flags NLM_F_MULTI
          + "0100 0000" // nlmsg_seq 1
          + "4d00 0000" // nlmsg_pid 77
          + "05 01 0000" // genlmsghdr: cmd IPVS_CMD_NEW_DEST, version 1
          + "8800 0200" // IPVS_CMD_ATTR_DEST, len 136 (no NLA_F_NESTED: nla_nest_start_noflag)
          + "1400 0100 0af40105 00000000 00000000 00000000" // . ADDR 10.244.1.5, 16 bytes
          + "0600 0b00 0200 0000" // . ADDR_FAMILY AF_INET
          + "0600 0200 1f90 0000" // . PORT 8080, network order
          + "0800 0300 0000 0000" // . FWD_METHOD masq
          + "0800 0400 0000 0000" // . WEIGHT 0
          + "0500 0d00 00 000000" // . TUN_TYPE u8 0
          + "0600 0e00 0000 0000" // . TUN_PORT 0
          + "0600 0f00 0000 0000" // . TUN_FLAGS 0
          + "0800 0500 0000 0000" // . U_THRESH 0
          + "0800 0600 0000 0000" // . L_THRESH 0
          + "0800 0700 0300 0000" // . ACTIVE_CONNS 3
          + "0800 0800 0c00 0000" // . INACT_CONNS 12
          + "0800 0900 0100 0000" // . PERSIST_CONNS 1
          + "1000 0c00" // . STATS64 (ignored)
          + "0c00 0100 2a00 0000 0000 0000"; // . . IPVS_STATS_ATTR_CONNS u64 42

  /** One message of an IPVS_CMD_GET_SERVICE dump, with the kernel's HASHED flag set. */
  public static final String IPVS_SERVICE_REPLY =
      "6800 0000" // nlmsg_len 104
          + "2300" // nlmsg_type: the IPVS family id
          + "0200" // nlmsg_flags NLM_F_MULTI
          + "0100 0000" // nlmsg_seq 1
          + "4d00 0000" // nlmsg_pid 77
          + "01 01 0000" // genlmsghdr: cmd IPVS_CMD_NEW_SERVICE, version 1
          + "5400 0100" // IPVS_CMD_ATTR_SERVICE, len 84
          + "0600 0100 0200 0000" // . AF AF_INET
          + "0600 0200 1100 0000" // . PROTOCOL UDP
          + "1400 0300 0a60000a 00000000 00000000 00000000" // . ADDR 10.96.0.10
          + "0600 0400 0035 0000" // . PORT 53, network order
          + "0700 0600 6d6800 00" // . SCHED_NAME "mh\0" + 1 pad
          + "0c00 0700 1a00 0000 ffff ffff" // . FLAGS {HASHED|SCHED1|SCHED2, mask ~0}
          + "0800 0800 0000 0000" // . TIMEOUT 0
          + "0800 0900 ffff ffff"; // . NETMASK 255.255.255.255 (network order)

  /** The reply to IPVS_CMD_GET_CONFIG. */
  public static final String IPVS_CONFIG_REPLY =
      "2c00 0000" // nlmsg_len 44
          + "2300 0000 0100 0000 4d00 0000" // IPVS family, no flags, seq 1, pid 77
          + "0c 01 0000" // genlmsghdr: cmd IPVS_CMD_SET_CONFIG, version 1
          + "0800 0400 8403 0000" // IPVS_CMD_ATTR_TIMEOUT_TCP 900
          + "0800 0500 7800 0000" // IPVS_CMD_ATTR_TIMEOUT_TCP_FIN 120
          + "0800 0600 2c01 0000"; // IPVS_CMD_ATTR_TIMEOUT_UDP 300

  /** One message of an RTM_GETADDR dump: an IPv6 VIP (IPv6 sends IFA_ADDRESS only). */
  public static final String ADDRESS_REPLY =
      "3400 0000" // nlmsg_len 52
          + "1400" // nlmsg_type RTM_NEWADDR
          + "0200" // nlmsg_flags NLM_F_MULTI
          + "0100 0000 4d00 0000" // seq 1, pid 77
          + "0a 80 80 00" // ifaddrmsg: AF_INET6, prefixlen 128, IFA_F_PERMANENT, scope universe
          + "0700 0000" // ifa_index 7
          + "1400 0100 fd00 0000 0000 0000 0000 0000 0000 0010" // IFA_ADDRESS fd00::10
          + "0800 0800 8000 0000"; // IFA_FLAGS IFA_F_PERMANENT

  public static List<String> replies() {
    return List.of(ERROR_EOPNOTSUPP, GETFAMILY_REPLY, IPVS_DEST_REPLY, IPVS_SERVICE_REPLY,
        IPVS_CONFIG_REPLY, ADDRESS_REPLY);
  }

  public static void assumeLittleEndian() {
    assumeTrue(ByteOrder.nativeOrder() == ByteOrder.LITTLE_ENDIAN,
        "golden vectors are written for a little-endian host");
  }

  /** The single message in a vector. */
  public static NetlinkMessage message(String hex) {
    List<NetlinkMessage> all = NetlinkMessage.parseDatagram(Hex.buffer(hex));
    if (all.size() != 1) {
      throw new AssertionError("vector holds " + all.size() + " messages");
    }
    return all.get(0);
  }

  /** The bytes the client sends for {@code request} as its first request (seq 1, pid 77). */
  public static String wire(NetlinkRequest request) throws NetlinkException {
    FakeNetlinkChannel fake = new FakeNetlinkChannel(PORT);
    fake.respond(req -> List.of(request.isDump() ? Replies.done(req, 0, 0) : Replies.ack(req)));
    NetlinkClient client = new NetlinkClient(fake, 1, 1);
    if (request.isDump()) {
      client.dump(request);
    } else {
      client.request(request);
    }
    ByteBuffer sent = fake.sent().get(0);
    return Hex.of(sent);
  }
}
