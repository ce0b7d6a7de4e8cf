"""Frames on a stream socket, and the key handshake every connection starts with.

A frame is ``u32 nparts`` then ``nparts`` little-endian ``u64`` lengths, then the parts back to back. Large parts
(array buffers) are sent from their own memory with ``sendmsg`` and received straight into a fresh ``bytearray`` with
``recv_into``: no copy on either side beyond the kernel's, and the receiver gets writable memory (so a numpy array
rebuilt over it is writable).

Every connection is authenticated before anything else is read from it: the server sends a random nonce, the client
answers HMAC-SHA256(key, "client:" + nonce) and its own nonce, the server proves it knows the key the same way. A peer
without the key is refused and the connection closed; no request from it is ever parsed.
"""

import hmac
import json
import os
import socket
import struct

_COUNT = struct.Struct("<I")
_LARGE = 64 * 1024           # parts at least this big are received into their own buffer
_CHUNK = 256 * 1024          # one recv for many small frames
_HELLO = b"pympi-parallel-1"
_HANDSHAKE_LIMIT = 64 * 1024  # an unauthenticated peer may not make us allocate more than this


class ConnectionLost(ConnectionError):
    """The peer closed the connection (or it broke)."""


class AuthenticationFailed(ConnectionError):
    """The peer does not have the cluster's key."""


def send_frame(sock, parts):
    """Sends one frame made of ``parts`` (bytes-like objects; large ones are not copied)."""
    views = [p if isinstance(p, memoryview) else memoryview(p) for p in parts]
    views = [v.cast("B") if (v.ndim != 1 or v.format != "B") and v.c_contiguous else v for v in views]
    lengths = [v.nbytes for v in views]
    header = _COUNT.pack(len(views)) + struct.pack(f"<{len(views)}Q", *lengths)
    pieces = [header] + [v for v in views if v.nbytes]
    total = len(header) + sum(lengths)
    sent = sock.sendmsg(pieces) if len(pieces) <= 512 else 0
    if sent == total:
        return
    # partial send (or too many pieces for one call): finish piece by piece
    for piece in pieces:
        n = len(piece) if isinstance(piece, bytes) else piece.nbytes
        if sent >= n:
            sent -= n
            continue
        sock.sendall(memoryview(piece)[sent:] if sent else piece)
        sent = 0


class FrameReader:
    """Reads frames from one socket, buffering small ones so many frames cost one ``recv``."""

    __slots__ = ("sock", "buf", "limit")

    def __init__(self, sock, limit=None):
        self.sock = sock
        self.buf = bytearray()
        self.limit = limit

    def fill(self):
        """One ``recv`` into the buffer; False when the peer has closed the connection."""
        try:
            data = self.sock.recv(_CHUNK)
        except (ConnectionResetError, BrokenPipeError):
            return False
        if not data:
            return False
        self.buf += data
        return True

    def frames(self):
        """Every complete frame in the buffer; a frame whose large parts are still arriving is completed by reading
        (the peer is in the middle of sending it). Never blocks when no frame has started."""
        out = []
        while True:
            frame = self._next()
            if frame is None:
                return out
            out.append(frame)

    def read_frame(self):
        """Blocks until one whole frame has arrived."""
        while True:
            frame = self._next()
            if frame is not None:
                return frame
            if not self.fill():
                raise ConnectionLost("connection closed by peer")

    def _next(self):
        buf = self.buf
        if len(buf) < 4:
            return None
        (n,) = _COUNT.unpack_from(buf, 0)
        head = 4 + 8 * n
        if self.limit is not None and n > 16:
            raise ConnectionError(f"malformed frame ({n} parts)")
        if len(buf) < head:
            if n > 1_000_000:
                raise ConnectionError(f"malformed frame ({n} parts)")
            return None
        lengths = struct.unpack_from(f"<{n}Q", buf, 4)
        total = head + sum(lengths)
        if self.limit is not None and total > self.limit:
            raise ConnectionError(f"frame of {total} bytes before authentication")
        if len(buf) >= total:
            parts, pos = [], head
            for length in lengths:
                parts.append(bytes(buf[pos:pos + length]))
                pos += length
            del buf[:total]
            return parts
        if total - len(buf) < _LARGE:
            return None  # a small frame still arriving: wait for the next fill
        return self._complete_large(head, lengths)

    def _complete_large(self, head, lengths):
        # Move what is buffered into per-part buffers, then recv_into the rest: big parts are read exactly once.
        buf = self.buf
        pos = head
        parts = []
        for length in lengths:
            part = bytearray(length)
            have = min(max(len(buf) - pos, 0), length)
            if have:
                part[:have] = buf[pos:pos + have]
            pos += have
            view = memoryview(part)
            while have < length:
                got = self.sock.recv_into(view[have:], min(length - have, 1 << 30))
                if got == 0:
                    raise ConnectionLost("connection closed in the middle of a frame")
                have += got
            parts.append(part if length >= _LARGE else bytes(part))
        del buf[:min(pos, len(buf))]
        return parts


def _mac(key, label, nonce):
    return hmac.digest(key, label + nonce, "sha256")


def server_handshake(sock, key, info=None, timeout=10.0):
    """Authenticates a freshly accepted connection; returns the client's identity dict or raises
    AuthenticationFailed. The socket is left in blocking mode."""
    sock.settimeout(timeout)
    nonce = os.urandom(32)
    send_frame(sock, [_HELLO, nonce])
    reader = FrameReader(sock, limit=_HANDSHAKE_LIMIT)
    try:
        parts = reader.read_frame()
    except socket.timeout:
        raise AuthenticationFailed("no handshake within %.0f s" % timeout) from None
    if len(parts) != 3 or not hmac.compare_digest(parts[0], _mac(key, b"client:", nonce)):
        try:
            send_frame(sock, [b"denied", b"wrong cluster key: use the connection file the cluster wrote"])
        except OSError:
            pass
        raise AuthenticationFailed("client did not prove it has the cluster key")
    identity = json.loads(parts[2] or b"{}")
    send_frame(sock, [b"ok", _mac(key, b"server:", parts[1]), json.dumps(info or {}).encode()])
    sock.settimeout(None)
    if reader.buf:
        raise AuthenticationFailed("client sent data before the handshake ended")
    return identity


def client_handshake(sock, key, identity=None, timeout=10.0):
    """Proves to the server that we have the key and checks that it has it too; returns the server's info dict."""
    sock.settimeout(timeout)
    reader = FrameReader(sock, limit=_HANDSHAKE_LIMIT)
    try:
        hello = reader.read_frame()
        if len(hello) != 2 or hello[0] != _HELLO:
            raise AuthenticationFailed("the peer is not a pympibridge cluster endpoint")
        mine = os.urandom(32)
        send_frame(sock, [_mac(key, b"client:", hello[1]), mine, json.dumps(identity or {}).encode()])
        answer = reader.read_frame()
    except socket.timeout:
        raise AuthenticationFailed("the endpoint did not answer the handshake within %.0f s" % timeout) from None
    except ConnectionLost:
        raise AuthenticationFailed("the endpoint closed the connection during the handshake") from None
    if answer[0] != b"ok":
        reason = answer[1].decode(errors="replace") if len(answer) > 1 else "refused"
        raise AuthenticationFailed(f"the cluster refused this connection: {reason}")
    if not hmac.compare_digest(answer[1], _mac(key, b"server:", mine)):
        raise AuthenticationFailed("the endpoint does not have the cluster key (wrong connection file?)")
    sock.settimeout(None)
    return json.loads(answer[2] or b"{}")


def parse_url(url):
    """``tcp://host:port`` -> (host, port)."""
    if not url.startswith("tcp://"):
        raise ValueError(f"unsupported address {url!r}: expected tcp://host:port")
    host, _, port = url[len("tcp://"):].rpartition(":")
    return host.strip("[]"), int(port)


def connect(url, key, identity=None, timeout=10.0):
    host, port = parse_url(url)
    sock = socket.create_connection((host, port), timeout=timeout)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    try:
        info = client_handshake(sock, key, identity, timeout)
    except BaseException:
        sock.close()
        raise
    return sock, info


def listen(ip, port=0):
    """A listening TCP socket; ``ip='*'`` or ``'0.0.0.0'`` means every interface."""
    bind = "0.0.0.0" if ip in ("*", "") else ip
    sock = socket.socket(socket.AF_INET6 if ":" in bind else socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((bind, port))
    sock.listen(128)
    return sock


def url_of(sock, advertised_ip=None):
    host, port = sock.getsockname()[:2]
    if advertised_ip:
        host = advertised_ip
    elif host in ("0.0.0.0", "::"):
        host = socket.gethostname()
    return f"tcp://{host}:{port}"


def send_frames(sock, frames):
    """Sends several frames with as few system calls as possible (replies to a burst of tiny tasks)."""
    if len(frames) == 1:
        send_frame(sock, frames[0])
        return
    pieces = []
    small = bytearray()
    for parts in frames:
        views = [p if isinstance(p, memoryview) else memoryview(p) for p in parts]
        views = [v.cast("B") if (v.ndim != 1 or v.format != "B") and v.c_contiguous else v for v in views]
        small += _COUNT.pack(len(views)) + struct.pack(f"<{len(views)}Q", *(v.nbytes for v in views))
        for v in views:
            if v.nbytes >= _LARGE:
                if small:
                    pieces.append(bytes(small))
                    small = bytearray()
                pieces.append(v)
            else:
                small += v
    if small:
        pieces.append(bytes(small))
    for i in range(0, len(pieces), 512):
        chunk = pieces[i:i + 512]
        sent = sock.sendmsg(chunk)
        for piece in chunk:
            n = piece.nbytes if isinstance(piece, memoryview) else len(piece)
            if sent >= n:
                sent -= n
                continue
            sock.sendall(memoryview(piece)[sent:] if sent else piece)
            sent = 0
