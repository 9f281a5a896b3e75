package dev.turnpike.dataplane;

/** A sync or cleanup that did not reach the kernel; the previously programmed rules are intact. */
public class DataplaneException extends Exception {
  private static final long serialVersionUID = 1L;

  public DataplaneException(String message) {
    super(message);
  }

  public DataplaneException(String message, Throwable cause) {
    super(message, cause);
  }
}
