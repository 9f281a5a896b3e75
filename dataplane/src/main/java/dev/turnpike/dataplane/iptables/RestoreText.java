package dev.turnpike.dataplane.iptables;

import java.util.ArrayList;
import java.util.List;

/**
 * Parses iptables-save / iptables-restore text into per-table operations. Shared by the backend
 * (to read the chains that exist) and by the test fakes, so both read the format the same way.
 */
public final class RestoreText {
  private RestoreText() {}

  /** One line of a table block. */
  public sealed interface Op {}

  /** {@code :CHAIN POLICY [p:b]}; policy is "-" for a user chain. */
  public record Declare(String chain, String policy) implements Op {}

  /** {@code -A CHAIN args...} (or {@code -I CHAIN [n] args}, position 1-based, 0 = append). */
  public record AddRule(String chain, int insertAt, List<String> args) implements Op {
    public AddRule {
      args = List.copyOf(args);
    }
  }

  /** {@code -D CHAIN args...}. */
  public record DeleteRule(String chain, List<String> args) implements Op {
    public DeleteRule {
      args = List.copyOf(args);
    }
  }

  /** {@code -F CHAIN}. */
  public record Flush(String chain) implements Op {}

  /** {@code -X CHAIN}. */
  public record DeleteChain(String chain) implements Op {}

  /** The lines between {@code *table} and {@code COMMIT}. */
  public record Block(String table, List<Op> ops, boolean committed) {
    public Block {
      ops = List.copyOf(ops);
    }
  }

  /**
   * Parses the text.
   *
   * @throws IllegalArgumentException naming the line on malformed input
   */
  public static List<Block> parse(String text) {
    List<Block> blocks = new ArrayList<>();
    String table = null;
    List<Op> ops = new ArrayList<>();
    int lineNo = 0;
    for (String raw : text.split("\n", -1)) {
      lineNo++;
      String line = raw.strip();
      if (line.isEmpty() || line.startsWith("#")) {
        continue;
      }
      if (line.startsWith("*")) {
        if (table != null) {
          throw bad(lineNo, "table " + line + " starts before COMMIT of *" + table);
        }
        table = line.substring(1);
        ops = new ArrayList<>();
        continue;
      }
      if (table == null) {
        throw bad(lineNo, "line outside a table: " + line);
      }
      if (line.equals("COMMIT")) {
        blocks.add(new Block(table, ops, true));
        table = null;
        continue;
      }
      if (line.startsWith(":")) {
        String[] parts = line.substring(1).split("\\s+");
        if (parts.length < 2) {
          throw bad(lineNo, "malformed chain line: " + line);
        }
        ops.add(new Declare(parts[0], parts[1]));
        continue;
      }
      List<String> tokens = tokenize(line, lineNo);
      if (tokens.size() < 2) {
        throw bad(lineNo, "malformed rule: " + line);
      }
      String cmd = tokens.get(0);
      String chain = tokens.get(1);
      List<String> rest = tokens.subList(2, tokens.size());
      switch (cmd) {
        case "-A", "--append" -> ops.add(new AddRule(chain, 0, rest));
        case "-I", "--insert" -> {
          if (!rest.isEmpty() && rest.get(0).chars().allMatch(Character::isDigit)) {
            ops.add(new AddRule(chain, Integer.parseInt(rest.get(0)), rest.subList(1, rest.size())));
          } else {
            ops.add(new AddRule(chain, 1, rest));
          }
        }
        case "-D", "--delete" -> ops.add(new DeleteRule(chain, rest));
        case "-F", "--flush" -> ops.add(new Flush(chain));
        case "-X", "--delete-chain" -> ops.add(new DeleteChain(chain));
        case "-N", "--new-chain" -> ops.add(new Declare(chain, "-"));
        default -> throw bad(lineNo, "unsupported command " + cmd);
      }
    }
    if (table != null) {
      blocks.add(new Block(table, ops, false));
    }
    return blocks;
  }

  /** The user chains ({@code :NAME -}) declared in save output, in order. */
  public static List<String> userChains(String saveText) {
    List<String> out = new ArrayList<>();
    for (Block b : parse(saveText)) {
      for (Op op : b.ops()) {
        if (op instanceof Declare d && d.policy().equals("-")) {
          out.add(d.chain());
        }
      }
    }
    return out;
  }

  /** Splits a rule line into arguments; double-quoted arguments may contain spaces. */
  public static List<String> tokenize(String line, int lineNo) {
    List<String> out = new ArrayList<>();
    StringBuilder cur = new StringBuilder();
    boolean inQuote = false;
    boolean have = false;
    for (int i = 0; i < line.length(); i++) {
      char c = line.charAt(i);
      if (inQuote) {
        if (c == '\\' && i + 1 < line.length()) {
          cur.append(line.charAt(++i));
        } else if (c == '"') {
          inQuote = false;
        } else {
          cur.append(c);
        }
      } else if (c == '"') {
        inQuote = true;
        have = true;
      } else if (Character.isWhitespace(c)) {
        if (have) {
          out.add(cur.toString());
          cur.setLength(0);
          have = false;
        }
      } else {
        cur.append(c);
        have = true;
      }
    }
    if (inQuote) {
      throw bad(lineNo, "unterminated quote: " + line);
    }
    if (have) {
      out.add(cur.toString());
    }
    return out;
  }

  /** Joins arguments back into rule text, quoting those with spaces (as iptables-save does). */
  public static String join(List<String> args) {
    StringBuilder sb = new StringBuilder();
    for (String a : args) {
      if (sb.length() > 0) {
        sb.append(' ');
      }
      if (a.isEmpty() || a.chars().anyMatch(ch -> Character.isWhitespace(ch) || ch == '"')) {
        sb.append('"').append(a.replace("\\", "\\\\").replace("\"", "\\\"")).append('"');
      } else {
        sb.append(a);
      }
    }
    return sb.toString();
  }

  private static IllegalArgumentException bad(int lineNo, String what) {
    return new IllegalArgumentException("line " + lineNo + ": " + what);
  }
}
