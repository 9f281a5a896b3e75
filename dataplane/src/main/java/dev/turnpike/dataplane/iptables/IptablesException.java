package dev.turnpike.dataplane.iptables;

/** An iptables command failed; the message carries the command's own error output. */
public class IptablesException extends Exception {
  private static final long serialVersionUID = 1L;

  public IptablesException(String message) {
    super(message);
  }

  public IptablesException(String message, Throwable cause) {
    super(message, cause);
  }
}
