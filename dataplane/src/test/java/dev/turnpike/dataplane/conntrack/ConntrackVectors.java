package dev.turnpike.dataplane.conntrack;

import java.util.List;

/**
 * ctnetlink replies shaped as ctnetlink_fill_info writes them (attribute order, NLA_F_NESTED on
 * nests, network-order scalars), annotated field by field for a little-endian host. Sequence 1,
 * port id 77, as in {@code GoldenVectors}.
 */
final class ConntrackVectors {
  private ConntrackVectors() {}

  /** One dump message: a UDP flow to ClusterIP 10.96.0.10:53 DNATed to 10.252.2.5:5353. */
  static final String UDP_DNAT_V4 =
      "a400 0000" // nlmsg_len 164
          + "0001" // nlmsg_type: NFNL_SUBSYS_CTNETLINK << 8 | IPCTNL_MSG_CT_NEW
          + "0200" // NLM_F_MULTI
          + "0100 0000 4d00 0000" // seq 1, pid 77
          + "02 00 0000" // nfgenmsg: AF_INET, NFNETLINK_V0, res_id 0 (big-endian)
          + "3400 0180" // CTA_TUPLE_ORIG | NLA_F_NESTED, len 52
          + "1400 0180" // . CTA_TUPLE_IP | NLA_F_NESTED
          + "0800 0100 0afc0102" // . . CTA_IP_V4_SRC 10.252.1.2
          + "0800 0200 0a60000a" // . . CTA_IP_V4_DST 10.96.0.10
          + "1c00 0280" // . CTA_TUPLE_PROTO | NLA_F_NESTED
          + "0500 0100 11 000000" // . . CTA_PROTO_NUM 17 (UDP) + 3 pad
          + "0600 0200 9c40 0000" // . . CTA_PROTO_SRC_PORT 40000, big-endian + 2 pad
          + "0600 0300 0035 0000" // . . CTA_PROTO_DST_PORT 53
          + "3400 0280" // CTA_TUPLE_REPLY | NLA_F_NESTED, len 52
          + "1400 0180" // . CTA_TUPLE_IP
          + "0800 0100 0afc0205" // . . CTA_IP_V4_SRC 10.252.2.5: the endpoint
          + "0800 0200 0afc0102" // . . CTA_IP_V4_DST 10.252.1.2
          + "1c00 0280" // . CTA_TUPLE_PROTO
          + "0500 0100 11 000000" // . . CTA_PROTO_NUM 17
          + "0600 0200 14e9 0000" // . . CTA_PROTO_SRC_PORT 5353: the target port
          + "0600 0300 9c40 0000" // . . CTA_PROTO_DST_PORT 40000
          + "0800 0300 000001aa" // CTA_STATUS big-endian: SEEN_REPLY|CONFIRMED|DST_NAT|
          // SRC_NAT_DONE|DST_NAT_DONE
          + "0800 0700 0000001e" // CTA_TIMEOUT 30 s, big-endian
          + "0800 0c00 deadbeef" // CTA_ID 0xdeadbeef (top bit set: read unsigned)
          + "0800 0b00 00000001" // CTA_USE 1 (ignored)
          + "0800 0800 00004000"; // CTA_MARK 0x4000, big-endian

  /** One dump message: IPv6 UDP in conntrack zone 7, not NATed, no CTA_ID or CTA_MARK. */
  static final String UDP_ZONE_V6 =
      "c400 0000" // nlmsg_len 196
          + "0001 0200 0100 0000 4d00 0000" // IPCTNL_MSG_CT_NEW, NLM_F_MULTI, seq 1, pid 77
          + "0a 00 0000" // nfgenmsg: AF_INET6, v0, res_id 0
          + "4c00 0180" // CTA_TUPLE_ORIG, len 76
          + "2c00 0180" // . CTA_TUPLE_IP
          + "1400 0300 fd000000 00000000 00000000 00000001" // . . CTA_IP_V6_SRC fd00::1
          + "1400 0400 fd000000 00000000 00000000 0000000a" // . . CTA_IP_V6_DST fd00::a
          + "1c00 0280" // . CTA_TUPLE_PROTO
          + "0500 0100 11 000000" // . . CTA_PROTO_NUM 17
          + "0600 0200 9c40 0000" // . . CTA_PROTO_SRC_PORT 40000
          + "0600 0300 0035 0000" // . . CTA_PROTO_DST_PORT 53
          + "0600 1200 0007 0000" // CTA_ZONE 7, big-endian, right after the original tuple
          + "4c00 0280" // CTA_TUPLE_REPLY, len 76
          + "2c00 0180" // . CTA_TUPLE_IP
          + "1400 0300 fd000000 00000000 00000000 0000000a" // . . CTA_IP_V6_SRC fd00::a
          + "1400 0400 fd000000 00000000 00000000 00000001" // . . CTA_IP_V6_DST fd00::1
          + "1c00 0280" // . CTA_TUPLE_PROTO
          + "0500 0100 11 000000" // . . CTA_PROTO_NUM 17
          + "0600 0200 0035 0000" // . . CTA_PROTO_SRC_PORT 53
          + "0600 0300 9c40 0000" // . . CTA_PROTO_DST_PORT 40000
          + "0800 0300 0000018e" // CTA_STATUS SEEN_REPLY|ASSURED|CONFIRMED|SRC_NAT_DONE|DST_NAT_DONE
          + "0800 0700 000000b4"; // CTA_TIMEOUT 180 s

  static List<String> replies() {
    return List.of(UDP_DNAT_V4, UDP_ZONE_V6);
  }
}
