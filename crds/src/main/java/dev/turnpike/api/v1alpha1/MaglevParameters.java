package dev.turnpike.api.v1alpha1;

import io.fabric8.generator.annotation.Pattern;
import io.fabric8.generator.annotation.Required;
import io.fabric8.generator.annotation.ValidationRule;

/**
 * The inputs every node needs to reproduce the operator's Maglev tables.
 *
 * @param tableSize M, one of the listed primes
 * @param seed the 64-bit hash seed, 16 lower-case hex digits
 */
public record MaglevParameters(
    @Required
        @ValidationRule(
            value = "self in [251, 509, 1021, 2039, 4093, 8191, 16381, 32749, 65521, 131071]",
            message = "tableSize must be one of 251, 509, 1021, 2039, 4093, 8191, 16381, 32749, 65521, 131071")
        Integer tableSize,
    @Required @Pattern("^[0-9a-f]{16}$") String seed) {}
