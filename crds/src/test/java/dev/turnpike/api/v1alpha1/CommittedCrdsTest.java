package dev.turnpike.api.v1alpha1;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * The chart and the lab install the committed YAML under crds/generated; it must be exactly what
 * the classes generate at build time (the crd-generator plugin runs at process-classes, before
 * tests). Fix a failure with hack/update-crds.sh.
 */
class CommittedCrdsTest {
  private static final Path GENERATED = Path.of("target/classes/META-INF/fabric8");
  private static final Path COMMITTED = Path.of("generated");

  @Test
  void committedCrdYamlEqualsWhatTheClassesGenerate() throws IOException {
    List<String> generated = yamlNames(GENERATED);
    assertEquals(
        List.of("dataplanenodes.turnpike.dev-v1.yml", "forwardingtables.turnpike.dev-v1.yml"),
        generated);
    assertEquals(generated, yamlNames(COMMITTED), "set of committed CRDs; run hack/update-crds.sh");
    for (String name : generated) {
      assertEquals(
          Files.readString(GENERATED.resolve(name)),
          Files.readString(COMMITTED.resolve(name)),
          name + " is stale; run hack/update-crds.sh");
    }
  }

  @Test
  void forwardingTableCrdCarriesShortNameScopeAndValidation() throws IOException {
    String yaml = Files.readString(COMMITTED.resolve("forwardingtables.turnpike.dev-v1.yml"));
    assertTrue(yaml.contains("scope: \"Namespaced\""));
    assertTrue(yaml.contains("- \"ft\""));
    assertTrue(yaml.contains("- \"maglev\"\n                - \"random\""), "algorithm enum");
    assertTrue(yaml.contains("self in [251, 509, 1021"), "maglev table size rule");
    assertTrue(yaml.contains("maximum: 86400.0"), "session affinity timeout maximum");
    assertTrue(yaml.contains("subresources:\n      status: {}"), "status subresource");
  }

  @Test
  void dataplaneNodeCrdIsClusterScoped() throws IOException {
    String yaml = Files.readString(COMMITTED.resolve("dataplanenodes.turnpike.dev-v1.yml"));
    assertTrue(yaml.contains("scope: \"Cluster\""));
  }

  private static List<String> yamlNames(Path dir) throws IOException {
    try (Stream<Path> files = Files.list(dir)) {
      return files.map(p -> p.getFileName().toString()).filter(n -> n.endsWith(".yml")).sorted().toList();
    }
  }
}
