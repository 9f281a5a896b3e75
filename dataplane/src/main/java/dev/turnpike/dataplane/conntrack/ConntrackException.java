package dev.turnpike.dataplane.conntrack;

import java.io.IOException;

/** A conntrack operation failed (the kernel refused, or the socket failed). */
public class ConntrackException extends IOException {
  public ConntrackException(String message, Throwable cause) {
    super(message, cause);
  }
}
