package dev.turnpike.api.v1alpha1;

import io.fabric8.crd.generator.annotation.AdditionalPrinterColumn;
import io.fabric8.kubernetes.api.model.Namespaced;
import io.fabric8.kubernetes.client.CustomResource;
import io.fabric8.kubernetes.model.annotation.Group;
import io.fabric8.kubernetes.model.annotation.ShortNames;
import io.fabric8.kubernetes.model.annotation.Version;

/**
 * What every node needs to forward one Service: written by the operator (one per Service, same
 * name and namespace, owned by the Service), read by every dataplane agent.
 */
@Group(ForwardingTable.GROUP)
@Version(ForwardingTable.VERSION)
@ShortNames("ft")
@AdditionalPrinterColumn(name = "Type", jsonPath = ".spec.type", type = AdditionalPrinterColumn.Type.STRING)
@AdditionalPrinterColumn(name = "Cluster-IP", jsonPath = ".spec.clusterIPs[0]", type = AdditionalPrinterColumn.Type.STRING)
@AdditionalPrinterColumn(name = "Ports", jsonPath = ".spec.summary.ports", type = AdditionalPrinterColumn.Type.STRING)
@AdditionalPrinterColumn(name = "Backends", jsonPath = ".spec.summary.backends", type = AdditionalPrinterColumn.Type.STRING)
@AdditionalPrinterColumn(name = "Algorithm", jsonPath = ".spec.algorithm", type = AdditionalPrinterColumn.Type.STRING)
@AdditionalPrinterColumn(name = "Age", jsonPath = ".metadata.creationTimestamp", type = AdditionalPrinterColumn.Type.DATE)
public class ForwardingTable extends CustomResource<ForwardingTableSpec, ForwardingTableStatus>
    implements Namespaced {
  public static final String GROUP = "turnpike.dev";
  public static final String VERSION = "v1alpha1";
  private static final long serialVersionUID = 1L;
}
