package dev.turnpike.lab;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;

/**
 * A TCP forwarder from a host loopback port to an address inside the lab (the agents' metrics and
 * health ports live in their node namespaces), so they are reachable on 127.0.0.1.
 */
final class Forwarder {
  private Forwarder() {}

  static void start(int localPort, String host, int port) throws IOException {
    ServerSocket server = new ServerSocket();
    server.setReuseAddress(true);
    server.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), localPort));
    Thread t = new Thread(() -> {
      while (true) {
        try {
          Socket in = server.accept();
          Socket out = new Socket();
          try {
            out.connect(new InetSocketAddress(host, port), 2000);
          } catch (IOException e) {
            in.close();
            continue;
          }
          pipe(in, out);
          pipe(out, in);
        } catch (IOException e) {
          return;
        }
      }
    }, "forward-" + localPort);
    t.setDaemon(true);
    t.start();
  }

  private static void pipe(Socket from, Socket to) {
    Thread t = new Thread(() -> {
      try (InputStream i = from.getInputStream(); OutputStream o = to.getOutputStream()) {
        i.transferTo(o);
      } catch (IOException e) {
        // the other side closed
      } finally {
        try {
          from.close();
          to.close();
        } catch (IOException e) {
          // closing
        }
      }
    });
    t.setDaemon(true);
    t.start();
  }
}
