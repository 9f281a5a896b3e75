package dev.turnpike.lab;

import io.fabric8.mockwebserver.http.Dispatcher;
import io.fabric8.mockwebserver.http.MockResponse;
import io.fabric8.mockwebserver.http.RecordedRequest;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * API discovery documents, which CRUD mode does not serve and kubectl needs: the core group, the
 * groups the lab uses, and Turnpike's own.
 */
final class Discovery {
  private Discovery() {}

  /** group/version → resources as "plural,Kind,namespaced,shortName". */
  private static final Map<String, List<String>> RESOURCES = new LinkedHashMap<>();

  static {
    RESOURCES.put("v1", List.of("services,Service,true,svc", "services/status,Service,true,", "pods,Pod,true,po",
        "nodes,Node,false,no", "namespaces,Namespace,false,ns", "events,Event,true,ev", "endpoints,Endpoints,true,ep",
        "configmaps,ConfigMap,true,cm"));
    RESOURCES.put("apps/v1", List.of("deployments,Deployment,true,deploy"));
    RESOURCES.put("discovery.k8s.io/v1", List.of("endpointslices,EndpointSlice,true,"));
    RESOURCES.put("coordination.k8s.io/v1", List.of("leases,Lease,true,"));
    RESOURCES.put("turnpike.dev/v1alpha1", List.of("forwardingtables,ForwardingTable,true,ft",
        "forwardingtables/status,ForwardingTable,true,", "dataplanenodes,DataplaneNode,false,dpn",
        "dataplanenodes/status,DataplaneNode,false,"));
  }

  /** Discovery paths (without query) and their JSON. */
  static Map<String, String> documents() {
    Map<String, String> docs = new LinkedHashMap<>();
    docs.put("/api", "{\"kind\":\"APIVersions\",\"versions\":[\"v1\"],\"serverAddressByClientCIDRs\":[]}");
    List<String> groups = new ArrayList<>();
    for (String gv : RESOURCES.keySet()) {
      if (gv.equals("v1")) {
        continue;
      }
      String group = gv.substring(0, gv.indexOf('/'));
      String v = "{\"groupVersion\":\"" + gv + "\",\"version\":\"" + gv.substring(gv.indexOf('/') + 1) + "\"}";
      groups.add("{\"name\":\"" + group + "\",\"versions\":[" + v + "],\"preferredVersion\":" + v + "}");
    }
    docs.put("/apis", "{\"kind\":\"APIGroupList\",\"apiVersion\":\"v1\",\"groups\":[" + String.join(",", groups) + "]}");
    RESOURCES.forEach((gv, resources) -> {
      List<String> items = new ArrayList<>();
      for (String r : resources) {
        String[] f = r.split(",", -1);
        String verbs = f[0].contains("/") ? "[\"get\",\"update\",\"patch\"]"
            : "[\"create\",\"delete\",\"deletecollection\",\"get\",\"list\",\"patch\",\"update\",\"watch\"]";
        String shortNames = f[3].isEmpty() ? "" : ",\"shortNames\":[\"" + f[3] + "\"]";
        items.add("{\"name\":\"" + f[0] + "\",\"singularName\":\"\",\"namespaced\":" + f[2] + ",\"kind\":\"" + f[1]
            + "\",\"verbs\":" + verbs + shortNames + "}");
      }
      String path = gv.equals("v1") ? "/api/v1" : "/apis/" + gv;
      docs.put(path, "{\"kind\":\"APIResourceList\",\"apiVersion\":\"v1\",\"groupVersion\":\""
          + gv + "\",\"resources\":[" + String.join(",", items) + "]}");
    });
    return docs;
  }

  /** Answers GETs of the discovery paths (any query string), and hands everything else to {@code next}. */
  static Dispatcher wrap(Dispatcher next) {
    Map<String, String> docs = documents();
    return new Dispatcher() {
      @Override
      public MockResponse dispatch(RecordedRequest request) {
        String path = request.getPath();
        int q = path.indexOf('?');
        String bare = q < 0 ? path : path.substring(0, q);
        String doc = "GET".equals(request.getMethod()) ? docs.get(bare) : null;
        if (doc != null) {
          return new MockResponse().setResponseCode(200).setHeader("Content-Type", "application/json").setBody(doc);
        }
        return next.dispatch(request);
      }

      @Override
      public void shutdown() {
        next.shutdown();
      }
    };
  }
}
