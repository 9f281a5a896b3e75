package dev.turnpike.operator.reconcile;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.turnpike.api.v1alpha1.ForwardingTableSpec;
import io.fabric8.kubernetes.client.utils.Serialization;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/**
 * A digest of a table spec, kept in an annotation on the ForwardingTable so a reconcile can tell
 * "nothing changed" without comparing (and without trusting the server's echo of) the whole spec.
 * The spec is serialized by the same Jackson configuration that writes it; records serialize their
 * components in declaration order and every list is already in canonical order, so equal specs
 * give equal bytes.
 */
public final class SpecDigest {
  /** Annotation holding {@link #of}'s value for the spec the object currently carries. */
  public static final String ANNOTATION = "turnpike.dev/spec-digest";

  private static final ObjectMapper MAPPER = Serialization.jsonMapper();

  private SpecDigest() {}

  public static String of(ForwardingTableSpec spec) {
    try {
      byte[] json = MAPPER.writeValueAsBytes(spec);
      return "sha256:" + HexFormat.of().formatHex(sha256().digest(json));
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("cannot serialize ForwardingTableSpec", e);
    }
  }

  /** Also used for stable Event names. */
  static String shortHash(String text) {
    return HexFormat.of()
        .formatHex(sha256().digest(text.getBytes(StandardCharsets.UTF_8)))
        .substring(0, 16);
  }

  private static MessageDigest sha256() {
    try {
      return MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is mandatory in every JDK", e);
    }
  }
}
