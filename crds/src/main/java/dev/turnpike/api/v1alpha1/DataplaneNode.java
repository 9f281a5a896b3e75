package dev.turnpike.api.v1alpha1;

import io.fabric8.crd.generator.annotation.AdditionalPrinterColumn;
import io.fabric8.kubernetes.client.CustomResource;
import io.fabric8.kubernetes.model.annotation.Group;
import io.fabric8.kubernetes.model.annotation.ShortNames;
import io.fabric8.kubernetes.model.annotation.Version;

/**
 * One per node, cluster-scoped, named after the node and written only by that node's agent: what
 * the agent last programmed into the kernel. Status only; there is nothing to ask of it.
 */
@Group(ForwardingTable.GROUP)
@Version(ForwardingTable.VERSION)
@ShortNames("dpn")
@AdditionalPrinterColumn(name = "Mode", jsonPath = ".status.mode", type = AdditionalPrinterColumn.Type.STRING)
@AdditionalPrinterColumn(name = "Tables", jsonPath = ".status.tablesProgrammed", type = AdditionalPrinterColumn.Type.INTEGER)
@AdditionalPrinterColumn(name = "Rules", jsonPath = ".status.ruleCount", type = AdditionalPrinterColumn.Type.INTEGER)
@AdditionalPrinterColumn(name = "Last-Sync", jsonPath = ".status.lastSuccessfulSyncTime", type = AdditionalPrinterColumn.Type.DATE)
@AdditionalPrinterColumn(name = "Last-Error", jsonPath = ".status.lastError", type = AdditionalPrinterColumn.Type.STRING, priority = 1)
public class DataplaneNode extends CustomResource<Void, DataplaneNodeStatus> {
  private static final long serialVersionUID = 1L;
}
