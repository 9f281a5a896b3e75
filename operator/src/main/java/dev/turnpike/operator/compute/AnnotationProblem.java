package dev.turnpike.operator.compute;

/**
 * A {@code turnpike.dev/} annotation whose value was rejected; the default was used instead.
 *
 * @param annotation the full annotation key
 * @param value the rejected value, verbatim
 * @param message names the annotation, the bad value and the accepted values
 */
public record AnnotationProblem(String annotation, String value, String message) {}
