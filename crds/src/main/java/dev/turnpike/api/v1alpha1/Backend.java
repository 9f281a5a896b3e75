package dev.turnpike.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import io.fabric8.generator.annotation.Required;
import java.util.List;

/**
 * One endpoint address, de-duplicated across the Service's EndpointSlices.
 *
 * @param ports the target port for each frontend (by frontend name) this endpoint serves
 * @param ready the endpoint's ready condition (unset in the slice counts as true)
 * @param serving the serving condition (unset counts as true)
 * @param terminating the terminating condition (unset counts as false)
 * @param hints topology hints copied from the EndpointSlice
 */
@JsonInclude(JsonInclude.Include.NON_EMPTY)
public record Backend(
    @Required String address,
    List<BackendPort> ports,
    String nodeName,
    String zone,
    @Required Boolean ready,
    @Required Boolean serving,
    @Required Boolean terminating,
    TopologyHints hints) {

  public Backend {
    ports = Interned.ports(ForwardingTableSpec.copy(ports));
    nodeName = Interned.string(nodeName);
    zone = Interned.string(zone);
  }

  /** The target port of the named frontend, or -1 when this endpoint does not serve it. */
  public int portFor(String frontendName) {
    for (BackendPort p : ports) {
      if (p.name().equals(frontendName)) {
        return p.port();
      }
    }
    return -1;
  }
}
