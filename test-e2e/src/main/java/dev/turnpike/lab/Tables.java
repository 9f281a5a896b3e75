package dev.turnpike.lab;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.fabric8.kubernetes.api.model.apiextensions.v1.CustomResourceColumnDefinition;
import io.fabric8.kubernetes.api.model.apiextensions.v1.CustomResourceDefinition;
import io.fabric8.mockwebserver.http.Dispatcher;
import io.fabric8.mockwebserver.http.MockResponse;
import io.fabric8.mockwebserver.http.RecordedRequest;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Server-side printing for custom resources, which CRUD mode does not do: when kubectl asks for a
 * Table, lists and gets of a CRD's resources are answered with its additionalPrinterColumns (so
 * {@code kubectl get ft -A} shows ALGORITHM, CLUSTER-IP, BACKENDS, ...).
 */
final class Tables {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final Pattern PATH = Pattern.compile("^/apis/([^/]+)/([^/]+)/(?:namespaces/[^/]+/)?([^/]+)(?:/([^/]+))?$");

  private final Map<String, List<CustomResourceColumnDefinition>> columns = new HashMap<>(); // group/version/plural

  void add(CustomResourceDefinition crd) {
    crd.getSpec().getVersions().forEach(v -> {
      if (v.getAdditionalPrinterColumns() != null) {
        columns.put(crd.getSpec().getGroup() + "/" + v.getName() + "/" + crd.getSpec().getNames().getPlural(),
            v.getAdditionalPrinterColumns());
      }
    });
  }

  Dispatcher wrap(Dispatcher next) {
    return new Dispatcher() {
      @Override
      public MockResponse dispatch(RecordedRequest request) {
        MockResponse response = next.dispatch(request);
        try {
          String accept = request.getHeader("Accept");
          String path = request.getPath();
          int q = path.indexOf('?');
          String bare = q < 0 ? path : path.substring(0, q);
          Matcher m = PATH.matcher(bare);
          if (!"GET".equals(request.getMethod()) || accept == null || !accept.contains("as=Table") || !m.matches()
              || (q >= 0 && path.substring(q).contains("watch=true")) || response.code() != 200) {
            return response;
          }
          List<CustomResourceColumnDefinition> cols = columns.get(m.group(1) + "/" + m.group(2) + "/" + m.group(3));
          if (cols == null) {
            return response;
          }
          JsonNode body = JSON.readTree(response.getBody().getBytes());
          return new MockResponse().setResponseCode(200).setHeader("Content-Type", "application/json")
              .setBody(JSON.writeValueAsString(table(body, cols)));
        } catch (Exception e) {
          return response;
        }
      }

      @Override
      public void shutdown() {
        next.shutdown();
      }
    };
  }

  private static ObjectNode table(JsonNode body, List<CustomResourceColumnDefinition> cols) {
    ObjectNode t = JSON.createObjectNode();
    t.put("kind", "Table");
    t.put("apiVersion", "meta.k8s.io/v1");
    t.putObject("metadata");
    ArrayNode defs = t.putArray("columnDefinitions");
    defs.addObject().put("name", "Name").put("type", "string").put("format", "name").put("description", "").put("priority", 0);
    for (CustomResourceColumnDefinition c : cols) {
      defs.addObject().put("name", c.getName()).put("type", c.getType().equals("date") ? "string" : c.getType())
          .put("format", "").put("description", "").put("priority", c.getPriority() == null ? 0 : c.getPriority());
    }
    ArrayNode rows = t.putArray("rows");
    JsonNode items = body.has("items") ? body.get("items") : JSON.createArrayNode().add(body);
    for (JsonNode item : items) {
      ObjectNode row = rows.addObject();
      ArrayNode cells = row.putArray("cells");
      cells.add(item.path("metadata").path("name").asText());
      for (CustomResourceColumnDefinition c : cols) {
        JsonNode v = at(item, c.getJsonPath());
        if (v == null || v.isMissingNode() || v.isNull()) {
          cells.addNull();
        } else if (c.getType().equals("date")) {
          cells.add(age(v.asText()));
        } else {
          cells.add(v);
        }
      }
      ObjectNode obj = row.putObject("object");
      obj.put("kind", "PartialObjectMetadata");
      obj.put("apiVersion", "meta.k8s.io/v1");
      obj.set("metadata", item.path("metadata"));
    }
    return t;
  }

  /** A simple JSONPath: {@code .a.b[0].c}. */
  static JsonNode at(JsonNode node, String path) {
    JsonNode cur = node;
    for (String part : path.replaceFirst("^\\.", "").split("\\.")) {
      Matcher m = Pattern.compile("^([^\\[]*)(?:\\[(\\d+)])?$").matcher(part);
      if (!m.matches()) {
        return null;
      }
      cur = cur.path(m.group(1));
      if (m.group(2) != null) {
        cur = cur.path(Integer.parseInt(m.group(2)));
      }
    }
    return cur;
  }

  static String age(String timestamp) {
    try {
      long s = Math.max(0, Duration.between(Instant.parse(timestamp), Instant.now()).toSeconds());
      if (s < 120) {
        return s + "s";
      }
      if (s < 3600) {
        return (s / 60) + "m";
      }
      if (s < 48 * 3600) {
        return (s / 3600) + "h";
      }
      return (s / 86400) + "d";
    } catch (RuntimeException e) {
      return timestamp;
    }
  }
}
