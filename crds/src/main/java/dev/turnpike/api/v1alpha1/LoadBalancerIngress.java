package dev.turnpike.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import io.fabric8.generator.annotation.Pattern;
import io.fabric8.generator.annotation.Required;

/** A load-balancer ingress IP; only ipMode VIP (or unset) ever appears here. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record LoadBalancerIngress(@Required String ip, @Pattern("^VIP$") String ipMode) {}
