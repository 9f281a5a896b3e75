package dev.turnpike.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Max;
import io.fabric8.generator.annotation.Min;
import io.fabric8.generator.annotation.Required;

/**
 * One Service port.
 *
 * @param name the Service port name ("" for a single unnamed port); backends are matched by it
 * @param maglevLookupTable for maglev Services, the lookup table over this frontend's backends in
 *     the encoding of {@code dev.turnpike.lb.MaglevTableCodec}; slots hold indices into the spec's
 *     {@code backends}
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record Frontend(
    @Required String name,
    @Required Protocol protocol,
    @Required @Min(1) @Max(65535) Integer port,
    @Min(1) @Max(65535) Integer nodePort,
    @JsonPropertyDescription("Maglev lookup table (encoded) whose slots index spec.backends.")
        String maglevLookupTable) {}
