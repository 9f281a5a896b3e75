package dev.turnpike.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import dev.turnpike.net.IpFamily;
import io.fabric8.generator.annotation.Required;

/**
 * One frontend's Maglev lookup table for one IP family.
 *
 * @param table encoded by {@code dev.turnpike.lb.MaglevTableCodec}; each of the M slots holds an
 *     index into the spec's {@code backends}
 */
public record MaglevLookupTable(
    @Required IpFamily ipFamily,
    @Required @JsonPropertyDescription("Encoded slots; each holds an index into spec.backends.") String table) {}
