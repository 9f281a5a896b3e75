package dev.turnpike.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import io.fabric8.generator.annotation.Max;
import io.fabric8.generator.annotation.Min;
import io.fabric8.generator.annotation.Required;
import java.util.List;

/**
 * One Service port.
 *
 * @param name the Service port name ("" for a single unnamed port); backends are matched by it
 * @param maglevTables for maglev Services, one lookup table per IP family over this frontend's
 *     usable backends of that family (ready, else serving and terminating)
 */
// NON_NULL, not NON_EMPTY: an unnamed port's name "" must still be written.
@JsonInclude(JsonInclude.Include.NON_NULL)
public record Frontend(
    @Required String name,
    @Required Protocol protocol,
    @Required @Min(1) @Max(65535) Integer port,
    @Min(1) @Max(65535) Integer nodePort,
    @JsonInclude(JsonInclude.Include.NON_EMPTY) List<MaglevLookupTable> maglevTables) {

  public Frontend {
    name = Interned.string(name);
    maglevTables = ForwardingTableSpec.copy(maglevTables);
  }

  public Frontend(String name, Protocol protocol, Integer port, Integer nodePort) {
    this(name, protocol, port, nodePort, List.of());
  }
}
