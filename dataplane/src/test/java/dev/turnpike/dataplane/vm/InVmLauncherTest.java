package dev.turnpike.dataplane.vm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Properties;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Disabled;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The in-VM launcher's verdict on the host, with fixture classes: only a run where every test
 * found succeeded passes; a failure, an abort, a skipped test or a skipped class does not (inside
 * the VM a skip means the harness lost IPVS, root or a tool). The fixtures are nested, so
 * Surefire does not run them by themselves.
 */
class InVmLauncherTest {
  @TempDir
  Path results;

  static class Passing {
    @Test
    void one() {}

    @Test
    void two() {}
  }

  static class OneFails {
    @Test
    void fine() {}

    @Test
    void broken() {
      assertEquals(1, 2, "fixture failure");
    }
  }

  static class OneSkipped {
    @Test
    void fine() {}

    @Test
    @Disabled("fixture skip")
    void skipped() {}
  }

  @Disabled("fixture class skip")
  static class SkippedClass {
    @Test
    void never() {}
  }

  static class OneAborted {
    @Test
    void aborted() {
      Assumptions.abort("fixture abort");
    }
  }

  @Test
  void onlyARunWhereEverythingSucceededPasses() throws Exception {
    Properties passing = run(Passing.class);
    assertTrue(InVmLauncher.passed(passing), passing.toString());
    assertEquals("2", passing.getProperty("found"));
    assertEquals("1", passing.getProperty("classes"));

    for (Class<?> c : List.of(OneFails.class, OneSkipped.class, SkippedClass.class,
        OneAborted.class)) {
      Properties p = run(c);
      assertFalse(InVmLauncher.passed(p), c.getSimpleName() + ": " + p);
    }
    assertEquals("0", run(SkippedClass.class).getProperty("classes"), "a skipped class did not run");
    assertFalse(InVmLauncher.passed(new Properties()), "no summary (the VM died) is no pass");
  }

  @Test
  void writesTheSummaryAndTheFailuresForTheHost() throws Exception {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    Properties p = InVmLauncher.run(results, List.of(OneFails.class.getName(),
        Passing.class.getName()), new PrintStream(out, true, StandardCharsets.UTF_8));
    String printed = out.toString(StandardCharsets.UTF_8);
    assertTrue(printed.contains("[vm] FAILED test OneFails.broken ("), printed);
    assertTrue(printed.contains("fixture failure"), printed);
    assertTrue(printed.contains("[vm] SUCCESSFUL test Passing.one ("), printed);

    Properties stored = new Properties();
    try (Reader in = Files.newBufferedReader(results.resolve(InVmLauncher.SUMMARY))) {
      stored.load(in);
    }
    assertEquals(p, stored);
    assertEquals("4", stored.getProperty("found"));
    assertEquals("3", stored.getProperty("succeeded"));
    assertEquals("1", stored.getProperty("failed"));
    assertEquals("2", stored.getProperty("classes"));
    assertTrue(Files.readString(results.resolve(InVmLauncher.REPORT)).contains("fixture failure"));
  }

  @Test
  void anUnknownClassIsAnError() {
    assertThrows(ClassNotFoundException.class,
        () -> InVmLauncher.run(results, List.of("dev.turnpike.NoSuchTest"), System.out));
  }

  private Properties run(Class<?> fixture) throws Exception {
    return InVmLauncher.run(results, List.of(fixture.getName()),
        new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8));
  }
}
