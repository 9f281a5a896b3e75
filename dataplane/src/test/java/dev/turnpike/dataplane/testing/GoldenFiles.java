package dev.turnpike.dataplane.testing;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/** Golden-text comparison; {@code -Dgolden.update=true} rewrites the file for review instead. */
public final class GoldenFiles {
  private GoldenFiles() {}

  public static void assertMatches(Path file, String actual) throws IOException {
    if (Boolean.getBoolean("golden.update")) {
      Files.createDirectories(file.getParent());
      Files.writeString(file, actual, StandardCharsets.UTF_8);
    }
    assertEquals(Files.readString(file, StandardCharsets.UTF_8), actual, "golden " + file + " (update with -Dgolden.update=true)");
  }
}
