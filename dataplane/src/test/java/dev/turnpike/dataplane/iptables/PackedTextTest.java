package dev.turnpike.dataplane.iptables;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.turnpike.dataplane.DesiredState;
import dev.turnpike.net.IpFamily;
import java.util.List;
import org.junit.jupiter.api.Test;

class PackedTextTest {
  /** Reads a part as the restore's writer does: length, then slices front to back. */
  private static String readLikeTheWriter(CharSequence part) {
    StringBuilder out = new StringBuilder();
    for (int i = 0; i < part.length(); i += 1 << 15) {
      out.append(part.subSequence(i, Math.min(part.length(), i + (1 << 15))));
    }
    return out.toString();
  }

  @Test
  void packedTextReadsBackExactlyAndAgain() {
    StringBuilder sb = new StringBuilder();
    for (int i = 0; i < 50_000; i++) {
      sb.append("-A TURNPIKE-SEP-").append(Integer.toString(i * 7919, 32)).append(" -p tcp -m tcp -j DNAT --to-destination 10.1.")
          .append(i % 250).append('.').append(i % 7).append(":8080 ü\n");
    }
    PackedText p = PackedText.of(sb);
    assertEquals(sb.length(), p.length());
    assertEquals(sb.toString(), readLikeTheWriter(p));
    assertEquals(sb.toString(), readLikeTheWriter(p), "a second pass (a retried write) reads the same");
    assertEquals(sb.toString(), p.toString());
    assertEquals(sb.charAt(12345), p.charAt(12345));
  }

  @Test
  void largeRenderKeepsFullPiecesPackedAndWritesTheSamePayload() {
    var tables = IptablesScaleBench.services(800, 10, 0);
    IptablesRenderer.Rendered r = new IptablesRenderer(IptablesConfig.defaults().withClusterCidrs(List.of("10.64.0.0/10")))
        .render(DesiredState.of(IptablesScaleBench.NODE, tables), IpFamily.IPv4, null, null, IptablesRenderer.Existing.NONE);
    long packed = r.parts().stream().filter(PackedText.class::isInstance).count();
    assertTrue(packed >= 2, "an 800-Service payload has full 1 MiB pieces, kept packed: " + packed);
    StringBuilder written = new StringBuilder();
    r.parts().forEach(p -> written.append(readLikeTheWriter(p)));
    assertEquals(r.payloadLength(), written.length());
    assertEquals(r.payload(), written.toString());
    // Every rule of the payload is there once: the restore text parses and its appended rules
    // (the hooks are inserted) count as rendered.
    long rules = RestoreText.parse(written.toString()).stream()
        .flatMap(b -> b.ops().stream()).filter(op -> op instanceof RestoreText.AddRule a && a.insertAt() == 0).count();
    assertEquals(r.rulesWritten(), rules);
  }
}
