package dev.turnpike.operator.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The README's run command over examples/ is compared with golden text, so any change to what the
 * operator would write shows up in review. Regenerate with {@code -Dgolden.update=true}.
 */
class ComputeCommandTest {
  private static final Path GOLDEN = Path.of("src/test/resources/golden/examples.yaml");

  private record Run(int code, String out, String err) {}

  private static Run run(String... args) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    int code = ComputeCommand.run(List.of(args), new PrintStream(out, true, StandardCharsets.UTF_8),
        new PrintStream(err, true, StandardCharsets.UTF_8));
    return new Run(code, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
  }

  @Test
  void examplesProduceTheGoldenTables() throws IOException {
    Run r = run("../examples");
    assertEquals(0, r.code(), r.err());
    if (Boolean.getBoolean("golden.update")) {
      Files.writeString(GOLDEN, r.out());
    }
    assertEquals(Files.readString(GOLDEN), r.out(), "run with -Dgolden.update=true if the change is intended");
  }

  @Test
  void skippedServicesAndBadAnnotationsAreReportedOnStderr() {
    Run r = run("../examples");
    assertTrue(r.err().contains("skipped demo/db: headless (clusterIP None)"), r.err());
    assertTrue(r.err().contains("Warning InvalidAnnotation demo/typo: invalid value \"roundrobin\" for annotation "
        + "turnpike.dev/lb-algorithm; accepted values: random, maglev; using the default \"random\""), r.err());
  }

  @Test
  void flagsChangeTheDefaults() {
    Run r = run("--default-algorithm", "maglev", "--maglev-table-size", "509", "--maglev-seed", "00000000000000ff", "../examples");
    assertEquals(0, r.code(), r.err());
    assertTrue(r.out().contains("tableSize: 509"), "default size applies to Services without the annotation");
    assertTrue(r.out().contains("seed: \"00000000000000ff\""));
  }

  @Test
  void badUsageExitsTwoWithAMessage() {
    assertEquals(2, run().code());
    Run bad = run("--maglev-table-size", "1000", "../examples");
    assertEquals(2, bad.code());
    assertTrue(bad.err().contains("251, 509"), bad.err());
    Run missing = run("does-not-exist.yaml");
    assertEquals(2, missing.code());
    assertTrue(missing.err().contains("no such file or directory"), missing.err());
  }
}
