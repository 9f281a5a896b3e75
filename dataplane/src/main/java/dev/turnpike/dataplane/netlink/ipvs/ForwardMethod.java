package dev.turnpike.dataplane.netlink.ipvs;

/** IP_VS_CONN_F_* forwarding methods, as IPVS_DEST_ATTR_FWD_METHOD carries them. */
public enum ForwardMethod {
  MASQ(0), LOCALNODE(1), TUNNEL(2), DROUTE(3);

  private final int code;

  ForwardMethod(int code) {
    this.code = code;
  }

  public int code() {
    return code;
  }

  static ForwardMethod of(int code) {
    for (ForwardMethod m : values()) {
      if (m.code == code) {
        return m;
      }
    }
    return null;
  }
}
