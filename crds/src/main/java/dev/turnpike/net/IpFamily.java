package dev.turnpike.net;

public enum IpFamily {
  IPv4,
  IPv6
}
