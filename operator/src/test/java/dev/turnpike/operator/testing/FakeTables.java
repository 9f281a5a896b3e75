package dev.turnpike.operator.testing;

import dev.turnpike.api.v1alpha1.Algorithm;
import dev.turnpike.api.v1alpha1.Backend;
import dev.turnpike.api.v1alpha1.BackendPort;
import dev.turnpike.api.v1alpha1.ForwardingTableSpec;
import dev.turnpike.api.v1alpha1.Frontend;
import dev.turnpike.api.v1alpha1.Protocol;
import dev.turnpike.api.v1alpha1.ServiceReference;
import dev.turnpike.api.v1alpha1.ServiceType;
import dev.turnpike.operator.compute.AnnotationProblem;
import dev.turnpike.operator.compute.ComputeResult;
import dev.turnpike.operator.reconcile.TableSource;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointSlice;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * A deliberately small stand-in for the real computation, so the reconciler's wiring is tested on
 * its own: one backend per ready endpoint address, the lb-algorithm annotation validated, the
 * service-proxy-name label and clusterIP None skipped, and failure injection per Service name.
 */
public final class FakeTables implements TableSource {
  public static final String ALGORITHM = "turnpike.dev/lb-algorithm";
  private final Set<String> failing = ConcurrentHashMap.newKeySet();

  /** Makes compute throw for this Service, as a bug in the computation would. */
  public void failFor(String serviceName) {
    failing.add(serviceName);
  }

  @Override
  public ComputeResult compute(Service service, List<EndpointSlice> slices) {
    var meta = service.getMetadata();
    if (failing.contains(meta.getName())) {
      throw new IllegalStateException("injected failure for " + meta.getName());
    }
    if ("None".equals(service.getSpec().getClusterIP())
        || meta.getLabels() != null && meta.getLabels().containsKey("service.kubernetes.io/service-proxy-name")) {
      return new ComputeResult.Skipped("not ours");
    }
    List<AnnotationProblem> problems = new ArrayList<>();
    Algorithm algorithm = Algorithm.RANDOM;
    String requested = meta.getAnnotations() == null ? null : meta.getAnnotations().get(ALGORITHM);
    if (requested != null) {
      switch (requested) {
        case "random" -> algorithm = Algorithm.RANDOM;
        case "maglev" -> algorithm = Algorithm.MAGLEV;
        default -> problems.add(new AnnotationProblem(ALGORITHM, requested,
            ALGORITHM + ": '" + requested + "' is not one of random, maglev; using random"));
      }
    }
    List<Frontend> frontends =
        service.getSpec().getPorts().stream()
            .map(p -> new Frontend(p.getName(), Protocol.valueOf(p.getProtocol()), p.getPort(), p.getNodePort(), null))
            .toList();
    List<Backend> backends = new ArrayList<>();
    String trigger = null;
    for (EndpointSlice s : slices) {
      Map<String, String> annotations = s.getMetadata().getAnnotations();
      String t = annotations == null ? null : annotations.get(Fixtures.TRIGGER_TIME);
      if (t != null && (trigger == null || t.compareTo(trigger) > 0)) {
        trigger = t;
      }
      for (var e : s.getEndpoints()) {
        if (!Boolean.FALSE.equals(e.getConditions().getReady())) {
          backends.add(new Backend(e.getAddresses().get(0),
              List.of(new BackendPort(s.getPorts().get(0).getName(), s.getPorts().get(0).getPort())),
              e.getNodeName(), null, true, true, false, null));
        }
      }
    }
    backends.sort(Comparator.comparing(Backend::address));
    var spec =
        new ForwardingTableSpec(
            new ServiceReference(meta.getNamespace(), meta.getName(), meta.getUid()),
            ServiceType.valueOf(Objects.requireNonNullElse(service.getSpec().getType(), "ClusterIP")),
            service.getSpec().getClusterIPs(), frontends, service.getSpec().getExternalIPs(),
            null, null, backends, null, null, null, null, null, algorithm, null, null, trigger, null);
    return new ComputeResult.Table(spec, problems);
  }
}
