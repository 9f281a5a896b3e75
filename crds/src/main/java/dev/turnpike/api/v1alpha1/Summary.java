package dev.turnpike.api.v1alpha1;

/**
 * Display figures for {@code kubectl get ft}.
 *
 * @param ports for example "80/TCP,53/UDP" (with ":nodePort" where there is one)
 * @param backends ready/total, for example "3/4"
 */
public record Summary(String ports, String backends) {}
