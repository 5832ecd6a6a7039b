"""A minimal HTTP/1.1 file server for bench/hub.ts: GET (with `Range: bytes=N-`) of one file,
the body sent with os.sendfile (zero-copy), so the server costs ~0.05 CPU s/GiB and the two
shared cores are left to the client, as when the hub is another machine. Prints its port."""

import os
import socket
import sys
import threading

path = sys.argv[1]
size = os.path.getsize(path)
srv = socket.socket()
srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
srv.bind(("127.0.0.1", 0))
srv.listen(8)
sys.stdout.write(f"{srv.getsockname()[1]}\n")
sys.stdout.flush()


def handle(conn):
    head = b""
    while b"\r\n\r\n" not in head:
        data = conn.recv(65536)
        if not data:
            conn.close()
            return
        head += data
    start = 0
    for line in head.split(b"\r\n"):
        if line.lower().startswith(b"range: bytes="):
            start = int(line.split(b"=", 1)[1].split(b"-", 1)[0])
    status = b"206 Partial Content" if start else b"200 OK"
    extra = f"Content-Range: bytes {start}-{size - 1}/{size}\r\n".encode() if start else b""
    conn.sendall(
        b"HTTP/1.1 " + status + b"\r\nContent-Length: " + str(size - start).encode() + b"\r\n" + extra
        + b"Accept-Ranges: bytes\r\nConnection: close\r\n\r\n"
    )
    with open(path, "rb") as f:
        at = start
        while at < size:
            n = os.sendfile(conn.fileno(), f.fileno(), at, size - at)
            if n == 0:
                break
            at += n
    conn.close()


while True:
    c, _ = srv.accept()
    threading.Thread(target=handle, args=(c,), daemon=True).start()
