package dev.turnpike.lab;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** {@code --name=value}, {@code --name value} and bare {@code --name} (true); other words are positional, under "". */
final class Flags {
  private Flags() {}

  static Map<String, String> parse(String[] args) {
    Map<String, String> out = new LinkedHashMap<>();
    List<String> positional = new ArrayList<>();
    for (int i = 0; i < args.length; i++) {
      String a = args[i];
      if (a.startsWith("--")) {
        String body = a.substring(2);
        int eq = body.indexOf('=');
        if (eq >= 0) {
          out.put(body.substring(0, eq), body.substring(eq + 1));
        } else if (i + 1 < args.length && !args[i + 1].startsWith("--")) {
          out.put(body, args[++i]);
        } else {
          out.put(body, "true");
        }
      } else {
        positional.add(a);
      }
    }
    out.put("", String.join("\u0000", positional));
    return out;
  }

  static List<String> positional(Map<String, String> flags) {
    String p = flags.getOrDefault("", "");
    return p.isEmpty() ? List.of() : List.of(p.split("\u0000"));
  }
}
