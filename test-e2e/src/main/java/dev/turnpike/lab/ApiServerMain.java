package dev.turnpike.lab;

import io.fabric8.kubernetes.api.model.apiextensions.v1.CustomResourceDefinition;
import io.fabric8.kubernetes.api.model.authorization.v1.ResourceRuleBuilder;
import io.fabric8.kubernetes.api.model.authorization.v1.SelfSubjectRulesReviewBuilder;
import io.fabric8.kubernetes.client.server.mock.KubernetesMixedDispatcher;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import io.fabric8.kubernetes.client.utils.Serialization;
import io.fabric8.mockwebserver.Context;
import io.fabric8.mockwebserver.MockWebServer;
import io.fabric8.mockwebserver.ServerRequest;
import io.fabric8.mockwebserver.ServerResponse;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Queue;
import java.util.concurrent.CountDownLatch;

/**
 * The lab's API server: the Fabric8 mock server in CRUD mode, in its own process, bound to an
 * address the node namespaces can reach, with Turnpike's CRDs installed and a kubeconfig written.
 *
 * <pre>java -cp turnpike-lab.jar dev.turnpike.lab.ApiServerMain --bind 10.251.255.1 --port 16443 --crds crds/generated --kubeconfig /run/turnpike-lab/kubeconfig</pre>
 */
public final class ApiServerMain {
  private ApiServerMain() {}

  public static void main(String[] args) throws Exception {
    java.util.logging.Logger.getLogger("io.fabric8.mockwebserver").setLevel(java.util.logging.Level.WARNING);
    java.util.logging.Logger.getLogger("").setLevel(java.util.logging.Level.WARNING);
    Map<String, String> flags = Flags.parse(args);
    String bind = flags.getOrDefault("bind", "127.0.0.1");
    int port = Integer.parseInt(flags.getOrDefault("port", "16443"));
    Path crds = Path.of(flags.getOrDefault("crds", "crds/generated"));
    Path kubeconfig = Path.of(flags.getOrDefault("kubeconfig", "kubeconfig"));

    List<CustomResourceDefinition> definitions = new ArrayList<>();
    try (DirectoryStream<Path> files = Files.newDirectoryStream(crds, "*.yml")) {
      for (Path file : files) {
        try (InputStream in = Files.newInputStream(file)) {
          definitions.add(Serialization.unmarshal(in, CustomResourceDefinition.class));
        }
      }
    }
    Tables tables = new Tables();
    definitions.forEach(tables::add);
    Map<ServerRequest, Queue<ServerResponse>> responses = new HashMap<>();
    KubernetesMockServer server = new KubernetesMockServer(new Context(Serialization.jsonMapper()), new MockWebServer(),
        responses, Discovery.wrap(tables.wrap(new KubernetesMixedDispatcher(responses))), false);
    server.init(InetAddress.getByName(bind), port);
    // JOSDK's leader election asks for a SelfSubjectRulesReview, which CRUD mode cannot answer.
    server.expect().post().withPath("/apis/authorization.k8s.io/v1/selfsubjectrulesreviews")
        .andReturn(201, new SelfSubjectRulesReviewBuilder().withNewStatus().withIncomplete(false)
            .withResourceRules(new ResourceRuleBuilder().withApiGroups("*").withResources("*").withVerbs("*").build())
            .endStatus().build())
        .always();
    try (var client = server.createClient()) {
      for (CustomResourceDefinition crd : definitions) {
        client.apiextensions().v1().customResourceDefinitions().resource(crd).create();
      }
    }
    writeKubeconfig(kubeconfig, "http://" + bind + ":" + port);
    System.out.println("api server listening on http://" + bind + ":" + port + ", kubeconfig " + kubeconfig.toAbsolutePath());
    CountDownLatch stop = new CountDownLatch(1);
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      server.destroy();
      stop.countDown();
    }));
    stop.await();
  }

  static void writeKubeconfig(Path path, String url) throws IOException {
    Path parent = path.toAbsolutePath().getParent();
    if (parent != null) {
      Files.createDirectories(parent);
    }
    String text = "apiVersion: v1\n"
        + "kind: Config\n"
        + "clusters:\n"
        + "- name: turnpike-lab\n"
        + "  cluster:\n"
        + "    server: " + url + "\n"
        + "contexts:\n"
        + "- name: turnpike-lab\n"
        + "  context:\n"
        + "    cluster: turnpike-lab\n"
        + "    user: lab\n"
        + "    namespace: default\n"
        + "current-context: turnpike-lab\n"
        + "users:\n"
        + "- name: lab\n"
        + "  user:\n"
        + "    token: lab\n";
    Path tmp = path.resolveSibling(path.getFileName() + ".tmp");
    Files.writeString(tmp, text);
    Files.move(tmp, path, java.nio.file.StandardCopyOption.REPLACE_EXISTING, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
  }
}
