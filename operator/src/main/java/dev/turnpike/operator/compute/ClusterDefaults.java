package dev.turnpike.operator.compute;

import dev.turnpike.api.v1alpha1.Algorithm;
import dev.turnpike.lb.MaglevConfig;
import java.util.Objects;

/**
 * Operator-wide settings the computation needs. Every replica must run with the same values (the
 * Maglev seed above all), or nodes would see tables flip on leader change.
 *
 * @param algorithm used when a Service has no valid {@code turnpike.dev/lb-algorithm}
 * @param maglevTableSize used when a Service has no valid {@code turnpike.dev/maglev-table-size}
 * @param maglevSeed the 64-bit Maglev hash seed
 * @param proxyName the {@code service.kubernetes.io/service-proxy-name} value Turnpike answers to;
 *     empty means Turnpike serves only Services without that label (kube-proxy's behaviour)
 */
public record ClusterDefaults(
    Algorithm algorithm, int maglevTableSize, long maglevSeed, String proxyName) {
  public ClusterDefaults {
    Objects.requireNonNull(algorithm, "algorithm");
    proxyName = proxyName == null ? "" : proxyName;
    // Fails fast at start-up: a bad operator-wide default is a configuration error, not input.
    new MaglevConfig(maglevTableSize, maglevSeed);
  }
}
