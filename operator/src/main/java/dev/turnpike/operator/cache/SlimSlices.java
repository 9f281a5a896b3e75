package dev.turnpike.operator.cache;

import dev.turnpike.operator.compute.TableComputer;
import io.fabric8.kubernetes.api.model.ObjectMeta;
import io.fabric8.kubernetes.api.model.discovery.v1.Endpoint;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointConditions;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointPort;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointSlice;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * What the EndpointSlice informer keeps of each slice: exactly the fields {@link TableComputer}
 * reads (name, namespace, resourceVersion, the service-name label, the last-change-trigger-time
 * annotation, addressType, ports, and per endpoint its addresses, conditions, nodeName, zone and
 * hints). Everything else (targetRef, hostname, managedFields, ownerReferences, other labels and
 * annotations, each model object's own empty additionalProperties map (replaced by the shared empty map, equal to it)) is dropped, node names, zones, port
 * names and protocols are interned, and the endpoint conditions are shared, because at 10,000
 * Services the slices are the largest cache. Cached objects are never mutated, so sharing is safe.
 */
public final class SlimSlices {
  private static final List<EndpointConditions> CONDITIONS = allConditions();

  private SlimSlices() {}

  public static EndpointSlice slim(EndpointSlice full) {
    EndpointSlice s = new EndpointSlice();
    s.setAdditionalProperties(Map.of());
    s.setMetadata(metadata(full.getMetadata()));
    s.setAddressType(intern(full.getAddressType()));
    if (full.getPorts() != null) {
      List<EndpointPort> ports = new ArrayList<>(full.getPorts().size());
      for (EndpointPort p : full.getPorts()) {
        EndpointPort port = new EndpointPort(intern(p.getAppProtocol()), intern(p.getName()), p.getPort(), intern(p.getProtocol()));
        port.setAdditionalProperties(Map.of());
        ports.add(port);
      }
      s.setPorts(List.copyOf(ports));
    }
    if (full.getEndpoints() != null) {
      List<Endpoint> endpoints = new ArrayList<>(full.getEndpoints().size());
      for (Endpoint e : full.getEndpoints()) {
        Endpoint endpoint = new Endpoint();
        endpoint.setAdditionalProperties(Map.of());
        endpoint.setAddresses(e.getAddresses() == null ? null : List.copyOf(e.getAddresses()));
        endpoint.setConditions(shared(e.getConditions()));
        endpoint.setNodeName(intern(e.getNodeName()));
        endpoint.setZone(intern(e.getZone()));
        endpoint.setHints(e.getHints());
        endpoints.add(endpoint);
      }
      s.setEndpoints(List.copyOf(endpoints));
    }
    return s;
  }

  private static ObjectMeta metadata(ObjectMeta full) {
    ObjectMeta m = new ObjectMeta();
    m.setAdditionalProperties(Map.of());
    if (full == null) {
      return m;
    }
    m.setName(full.getName());
    m.setNamespace(intern(full.getNamespace()));
    m.setResourceVersion(full.getResourceVersion());
    m.setLabels(only(full.getLabels(), TableComputer.SERVICE_NAME_LABEL));
    m.setAnnotations(only(full.getAnnotations(), TableComputer.TRIGGER_TIME_ANNOTATION));
    return m;
  }

  private static Map<String, String> only(Map<String, String> map, String key) {
    String value = map == null ? null : map.get(key);
    return value == null ? Map.of() : Map.of(key, value);
  }

  /** One of the 27 (ready, serving, terminating) combinations, each true/false/unset. */
  private static EndpointConditions shared(EndpointConditions c) {
    if (c == null) {
      return null;
    }
    return CONDITIONS.get(9 * index(c.getReady()) + 3 * index(c.getServing()) + index(c.getTerminating()));
  }

  private static int index(Boolean b) {
    return b == null ? 0 : b ? 1 : 2;
  }

  private static List<EndpointConditions> allConditions() {
    Boolean[] values = {null, true, false};
    List<EndpointConditions> all = new ArrayList<>(27);
    for (Boolean ready : values) {
      for (Boolean serving : values) {
        for (Boolean terminating : values) {
          EndpointConditions c = new EndpointConditions(ready, serving, terminating);
          c.setAdditionalProperties(Map.of());
          all.add(c);
        }
      }
    }
    return List.copyOf(all);
  }

  /** Few distinct values, repeated in every slice: one copy each. */
  static String intern(String s) {
    return s == null ? null : s.intern();
  }
}
