package dev.turnpike.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import io.fabric8.generator.annotation.Max;
import io.fabric8.generator.annotation.Min;
import io.fabric8.generator.annotation.Pattern;
import io.fabric8.generator.annotation.Required;

/**
 * ClientIP session affinity. Absent means none.
 *
 * @param timeoutSeconds how long a client sticks to its backend (Kubernetes: default 10800, at most
 *     86400)
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record SessionAffinity(
    @Required @Pattern("^ClientIP$") String type,
    @Required @Min(1) @Max(86400) Integer timeoutSeconds) {

  public static final String CLIENT_IP = "ClientIP";
  public static final int DEFAULT_TIMEOUT_SECONDS = 10800;
  public static final int MAX_TIMEOUT_SECONDS = 86400;

  public static SessionAffinity clientIp(int timeoutSeconds) {
    return new SessionAffinity(CLIENT_IP, timeoutSeconds);
  }
}
