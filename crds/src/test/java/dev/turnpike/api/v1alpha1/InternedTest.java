package dev.turnpike.api.v1alpha1;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.util.List;
import org.junit.jupiter.api.Test;

class InternedTest {
  private static final ObjectMapper JSON = new ObjectMapper();

  /** Distinct String objects, as a deserializer makes them. */
  private static String fresh(String s) {
    return new String(s.toCharArray());
  }

  private static Backend backend(String address, String node, String port) {
    return new Backend(address, List.of(new BackendPort(fresh(port), 8080)), fresh(node), fresh("z1"), true, true, false, null);
  }

  @Test
  void backendsShareNodeNamesZonesAndPortLists() {
    Backend a = backend("10.0.0.1", "node-a", "http");
    Backend b = backend("10.0.0.2", "node-a", "http");
    assertSame(a.nodeName(), b.nodeName());
    assertSame(a.zone(), b.zone());
    assertSame(a.ports(), b.ports(), "equal port lists are one list");
    Backend c = backend("10.0.0.3", "node-a", "grpc");
    assertNotSame(a.ports(), c.ports());
    assertEquals(List.of(new BackendPort("grpc", 8080)), c.ports());
  }

  @Test
  void deserializedSpecsShareThemToo() throws Exception {
    String json = "{\"address\":\"10.0.0.%d\",\"ports\":[{\"name\":\"http\",\"port\":8080}],\"nodeName\":\"node-b\","
        + "\"ready\":true,\"serving\":true,\"terminating\":false}";
    Backend a = JSON.readValue(String.format(json, 1), Backend.class);
    Backend b = JSON.readValue(String.format(json, 2), Backend.class);
    assertSame(a.nodeName(), b.nodeName());
    assertSame(a.ports(), b.ports());
    assertEquals("10.0.0.2", b.address());
    Frontend f = JSON.readValue("{\"name\":\"http\",\"protocol\":\"TCP\",\"port\":80}", Frontend.class);
    assertSame(a.ports().get(0).name(), f.name(), "port names are shared between frontends and backends");
    ServiceReference r1 = JSON.readValue("{\"namespace\":\"shop\",\"name\":\"web\"}", ServiceReference.class);
    ServiceReference r2 = JSON.readValue("{\"namespace\":\"shop\",\"name\":\"api\"}", ServiceReference.class);
    assertSame(r1.namespace(), r2.namespace());
  }
}
