package dev.turnpike.lab;

/** The pods' server: TCP and UDP on one port, answering "POD-NAME PEER-IP\n" (the dataplane's real-kernel test uses the same). */
final class PodServer {
  private PodServer() {}

  static final String SCRIPT =
      "import socket,sys,threading\n"
          + "name=sys.argv[1];port=int(sys.argv[2])\n"
          + "def udp():\n"
          + "  u=socket.socket(socket.AF_INET,socket.SOCK_DGRAM);u.bind(('',port))\n"
          + "  while True:\n"
          + "    d,a=u.recvfrom(100);u.sendto(('%s %s\\n'%(name,a[0])).encode(),a)\n"
          + "threading.Thread(target=udp,daemon=True).start()\n"
          + "s=socket.socket();s.setsockopt(socket.SOL_SOCKET,socket.SO_REUSEADDR,1);s.bind(('',port));s.listen(1024)\n"
          + "print('ready',flush=True)\n"
          + "while True:\n"
          + "  c,a=s.accept()\n"
          + "  try:\n"
          + "    c.sendall(('%s %s\\n'%(name,a[0])).encode())\n"
          + "  except OSError:\n"
          + "    pass\n"
          + "  c.close()\n";

  /**
   * A client: count connections (tcp) or datagrams (udp) to dst:port, one output line per try:
   * the answer, or "ERR refused|timeout|errno". With sport &gt; 0 try i uses source port sport+i.
   * With a positive rate it paces the tries at that many per second.
   */
  static final String CLIENT =
      "import socket,sys,time,struct\n"
          + "dst,port,count,timeout,proto,sport,rate=sys.argv[1],int(sys.argv[2]),int(sys.argv[3]),float(sys.argv[4]),sys.argv[5],int(sys.argv[6]),float(sys.argv[7])\n"
          + "start=time.time()\n"
          + "for i in range(count):\n"
          + "  if rate>0:\n"
          + "    d=start+i/rate-time.time()\n"
          + "    if d>0: time.sleep(d)\n"
          + "  t=time.time()\n"
          + "  try:\n"
          + "    if proto=='tcp':\n"
          + "      s=socket.socket();s.settimeout(timeout)\n"
          + "      s.setsockopt(socket.SOL_SOCKET,socket.SO_REUSEADDR,1)\n"
          + "      s.setsockopt(socket.SOL_SOCKET,socket.SO_LINGER,struct.pack('ii',1,0))\n"
          + "      if sport: s.bind(('',sport+i))\n"
          + "      s.connect((dst,port));data=b''\n"
          + "      while not data.endswith(b'\\n'):\n"
          + "        chunk=s.recv(100)\n"
          + "        if not chunk: break\n"
          + "        data+=chunk\n"
          + "      s.close();print(data.decode().strip(),flush=True)\n"
          + "    else:\n"
          + "      u=socket.socket(socket.AF_INET,socket.SOCK_DGRAM);u.settimeout(timeout)\n"
          + "      if sport: u.bind(('',sport+i))\n"
          + "      u.sendto(b'x',(dst,port));d,a=u.recvfrom(100);u.close();print(d.decode().strip(),flush=True)\n"
          + "  except ConnectionRefusedError:\n"
          + "    print('ERR refused',flush=True)\n"
          + "  except socket.timeout:\n"
          + "    print('ERR timeout',flush=True)\n"
          + "  except OSError as e:\n"
          + "    print('ERR '+str(e.errno),flush=True)\n";
}
