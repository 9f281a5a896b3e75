package dev.turnpike.operator.cache;

import dev.turnpike.operator.compute.ServiceAnnotations;
import io.fabric8.kubernetes.api.model.ObjectMeta;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.ServiceBuilder;
import io.fabric8.kubernetes.api.model.ServicePort;
import io.fabric8.kubernetes.api.model.ServiceSpec;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * What the Service informer keeps of each Service: all of it except managedFields and the
 * annotations outside {@code turnpike.dev/} (kubectl's last-applied-configuration is a full JSON
 * copy of the Service), with repeated strings (type, policies, families, port names, protocols)
 * interned and each model object's own empty additionalProperties map replaced by the shared empty
 * map (equal to it). The computation reads only turnpike.dev/ annotations; labels, uid and
 * resourceVersion (Event names, ownerReferences) are kept.
 */
public final class SlimServices {
  private SlimServices() {}

  public static Service slim(Service full) {
    Service s = new ServiceBuilder(full).build();
    s.setAdditionalProperties(Map.of());
    ObjectMeta meta = s.getMetadata();
    if (meta != null) {
      meta.setAdditionalProperties(Map.of());
      meta.setManagedFields(null);
      meta.setAnnotations(turnpikeAnnotations(meta.getAnnotations()));
      meta.setNamespace(SlimSlices.intern(meta.getNamespace()));
    }
    ServiceSpec spec = s.getSpec();
    if (spec != null) {
      spec.setAdditionalProperties(Map.of());
      spec.setType(SlimSlices.intern(spec.getType()));
      spec.setSessionAffinity(SlimSlices.intern(spec.getSessionAffinity()));
      spec.setExternalTrafficPolicy(SlimSlices.intern(spec.getExternalTrafficPolicy()));
      spec.setInternalTrafficPolicy(SlimSlices.intern(spec.getInternalTrafficPolicy()));
      spec.setIpFamilyPolicy(SlimSlices.intern(spec.getIpFamilyPolicy()));
      if (spec.getIpFamilies() != null) {
        spec.setIpFamilies(spec.getIpFamilies().stream().map(SlimSlices::intern).toList());
      }
      if (spec.getClusterIPs() != null) {
        spec.setClusterIPs(List.copyOf(spec.getClusterIPs()));
      }
      if (spec.getPorts() != null) {
        for (ServicePort p : spec.getPorts()) {
          p.setAdditionalProperties(Map.of());
          p.setName(SlimSlices.intern(p.getName()));
          p.setProtocol(SlimSlices.intern(p.getProtocol()));
        }
      }
    }
    if (s.getStatus() != null) {
      s.getStatus().setAdditionalProperties(Map.of());
    }
    return s;
  }

  private static Map<String, String> turnpikeAnnotations(Map<String, String> annotations) {
    if (annotations == null || annotations.isEmpty()) {
      return Map.of();
    }
    Map<String, String> kept = new HashMap<>();
    annotations.forEach((k, v) -> {
      if (k.startsWith(ServiceAnnotations.PREFIX)) {
        kept.put(k, v);
      }
    });
    return kept.isEmpty() ? Map.of() : Map.copyOf(kept);
  }
}
