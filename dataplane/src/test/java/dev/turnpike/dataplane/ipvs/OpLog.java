package dev.turnpike.dataplane.ipvs;

import dev.turnpike.dataplane.netlink.Errno;
import dev.turnpike.dataplane.netlink.NetlinkException;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Predicate;

/** The changes a fake kernel object accepted, in order, with failures injected by op text. */
final class OpLog {
  private final List<String> ops = new ArrayList<>();
  private Predicate<String> failWhen = op -> false;

  /** Makes every change whose op text matches fail with EIO (nothing changes). */
  void failWhen(Predicate<String> p) {
    failWhen = p;
  }

  List<String> ops() {
    return List.copyOf(ops);
  }

  void clear() {
    ops.clear();
  }

  /** Records a change about to be made, or throws the injected failure. */
  void record(String text) throws NetlinkException {
    if (failWhen.test(text)) {
      throw new NetlinkException(text + " (injected)", Errno.EIO.code());
    }
    ops.add(text);
  }
}
