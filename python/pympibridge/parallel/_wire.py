"""Frames on a stream socket, and the key handshake every connection starts with.

A frame is ``u32 nparts`` then ``nparts`` little-endian ``u64`` lengths, then the parts back to back.

Large parts (array buffers) never go through pickle. Over TCP they are sent from their own memory with ``sendmsg``
and received straight into a fresh ``bytearray`` with ``recv_into``. Between processes on one host (an engine and a
client on the same machine talk over a Unix socket) a part of 1 MiB or more travels as a file descriptor instead: the
sender copies it once into a ``memfd`` and passes the descriptor (SCM_RIGHTS); the receiver maps it copy-on-write,
so pushing one array to N engines costs one copy in all and each engine still owns a private, writable array. Such a
part has the top bit of its length set and no bytes in the stream.

Every connection is authenticated before anything else is read from it: the server sends a random nonce, the client
answers HMAC-SHA256(key, "client:" + nonce) and its own nonce, the server proves it knows the key the same way. A peer
without the key is refused and the connection closed; no request from it is ever parsed, no descriptor it sends kept.
"""

import array
import collections
import hmac
import json
import mmap
import os
import socket
import struct
import threading

_COUNT = struct.Struct("<I")
_LARGE = 64 * 1024           # parts at least this big are received into their own buffer
_FD_THRESHOLD = 1 << 20      # parts at least this big cross a Unix socket as a memfd
_FD_FLAG = 1 << 63
_CHUNK = 256 * 1024          # one recv for many small frames
_MAX_FDS = 64
_ANC_SPACE = socket.CMSG_SPACE(_MAX_FDS * 4)
_HELLO = b"pympi-parallel-1"
_HANDSHAKE_LIMIT = 64 * 1024  # an unauthenticated peer may not make us allocate more than this


class ConnectionLost(ConnectionError):
    """The peer closed the connection (or it broke)."""


class AuthenticationFailed(ConnectionError):
    """The peer does not have the cluster's key."""


def _bytes_view(p):
    v = p if isinstance(p, memoryview) else memoryview(p)
    if v.ndim != 1 or v.format != "B":
        if not v.c_contiguous:
            raise ValueError("only contiguous buffers can be sent")
        v = v.cast("B")
    return v


class FdPart:
    """A buffer copied once into a memfd, ready to be passed to processes on this host (several times)."""

    __slots__ = ("fd", "nbytes", "source")

    def __init__(self, source):
        view = _bytes_view(source)
        self.source = view
        self.nbytes = view.nbytes
        self.fd = os.memfd_create("pympi-buffer", os.MFD_CLOEXEC)
        try:
            # pwrite lets the kernel fill page-cache pages in bulk: ~10x faster than faulting in a mapping
            offset = 0
            while offset < self.nbytes:
                offset += os.pwrite(self.fd, view[offset:offset + (1 << 30)], offset)
        except BaseException:
            os.close(self.fd)
            raise

    def close(self):
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1

    def __del__(self):
        self.close()


def send_frame(sock, parts):
    """Sends one frame made of ``parts`` (bytes-like objects or FdParts; large ones are not copied)."""
    send_frames(sock, [parts])


def send_frames(sock, frames):
    """Sends frames with as few system calls as possible (a burst of tiny tasks or replies goes in one)."""
    local = sock.family == socket.AF_UNIX
    pieces, fds, temporary = [], [], []
    small = bytearray()
    try:
        for parts in frames:
            for p in parts:
                if type(p) is not bytes or len(p) >= _LARGE:
                    break
            else:
                # the hot path: a tiny task or reply, every part small bytes
                small += _header(len(parts)).pack(len(parts), *map(len, parts))
                for p in parts:
                    small += p
                continue
            lengths, payload = [], []
            for p in parts:
                if isinstance(p, FdPart):
                    if local:
                        lengths.append(p.nbytes | _FD_FLAG)
                        fds.append(p.fd)
                        continue
                    p = p.source
                v = _bytes_view(p)
                if local and v.nbytes >= _FD_THRESHOLD:
                    fp = FdPart(v)
                    temporary.append(fp)
                    lengths.append(fp.nbytes | _FD_FLAG)
                    fds.append(fp.fd)
                    continue
                lengths.append(v.nbytes)
                payload.append(v)
            small += _COUNT.pack(len(lengths)) + struct.pack(f"<{len(lengths)}Q", *lengths)
            for v in payload:
                if v.nbytes >= _LARGE:
                    if small:
                        pieces.append(bytes(small))
                        small = bytearray()
                    pieces.append(v)
                elif v.nbytes:
                    small += v
        if small:
            pieces.append(bytes(small))
        if len(fds) > _MAX_FDS:
            raise ValueError(f"too many large buffers in one message ({len(fds)}, at most {_MAX_FDS})")
        ancillary = [(socket.SOL_SOCKET, socket.SCM_RIGHTS, array.array("i", fds))] if fds else []
        for i in range(0, len(pieces), 512):
            chunk = pieces[i:i + 512]
            sent = sock.sendmsg(chunk, ancillary)
            ancillary = []
            for piece in chunk:
                n = piece.nbytes if isinstance(piece, memoryview) else len(piece)
                if sent >= n:
                    sent -= n
                    continue
                sock.sendall(memoryview(piece)[sent:] if sent else piece)
                sent = 0
    finally:
        for fp in temporary:
            fp.close()


_headers = {}


def _header(n):
    """The Struct of a frame header with ``n`` parts (cached: building a format string per frame costs)."""
    h = _headers.get(n)
    if h is None:
        h = _headers[n] = struct.Struct(f"<I{n}Q")
    return h


_local = threading.local()


def _scratch():
    buf = getattr(_local, "scratch", None)
    if buf is None:
        buf = _local.scratch = memoryview(bytearray(_CHUNK))
    return buf


class FrameReader:
    """Reads frames from one socket, buffering small ones so many frames cost one ``recv``."""

    __slots__ = ("sock", "buf", "pos", "limit", "local", "fds")

    def __init__(self, sock, limit=None):
        self.sock = sock
        self.buf = bytearray()
        self.pos = 0                 # where the next frame starts in buf
        self.limit = limit
        # descriptors are accepted only once the peer is authenticated (limit=None)
        self.local = limit is None and sock.family == socket.AF_UNIX
        self.fds = collections.deque()

    def fill(self):
        """One ``recv`` into the buffer; False when the peer has closed the connection."""
        # Into a reused scratch buffer: recv(256 KiB) would allocate (and for that size mmap) a fresh object on
        # every call, which cost more than the rest of a tiny task's round trip.
        scratch = _scratch()
        try:
            if self.local:
                n, ancillary, flags, _ = self.sock.recvmsg_into([scratch], _ANC_SPACE)
                for level, kind, payload in ancillary:
                    if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
                        fds = array.array("i")
                        fds.frombytes(payload[:len(payload) - len(payload) % fds.itemsize])
                        self.fds.extend(fds)
                if flags & socket.MSG_CTRUNC:
                    raise ConnectionError("buffer descriptors were lost (too many in one message)")
            else:
                n = self.sock.recv_into(scratch)
        except (ConnectionResetError, BrokenPipeError):
            return False
        if not n:
            return False
        self._compact()
        self.buf += scratch[:n]
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

    def _peek_header(self):
        """(header length, part lengths, stream bytes of the frame) of the next frame, or None while its header is
        still arriving. Checks what an unauthenticated peer may send."""
        buf, pos = self.buf, self.pos
        if len(buf) - pos < 4:
            return None
        (n,) = _COUNT.unpack_from(buf, pos)
        if n > (16 if self.limit is not None else 1_000_000):
            raise ConnectionError(f"malformed frame ({n} parts)")
        head = 4 + 8 * n
        if len(buf) - pos < head:
            return None
        lengths = _header(n).unpack_from(buf, pos)[1:]
        total = sum(lengths)
        if total >= _FD_FLAG:  # some parts travel as descriptors: they take no room in the stream
            if self.limit is not None:
                raise ConnectionError("buffer descriptors sent before authentication")
            total = sum(length for length in lengths if not length & _FD_FLAG)
        total += head
        if self.limit is not None and total > self.limit:
            raise ConnectionError(f"frame of {total} bytes before authentication")
        return head, lengths, total

    def _next(self):
        """The next whole frame, or None. Frames are sliced at a moving offset; the buffer is compacted once per
        ``fill``, so a burst of many small frames costs linear time."""
        found = self._peek_header()
        if found is None:
            return None
        head, lengths, total = found
        buf, pos = self.buf, self.pos
        if len(buf) - pos >= total:
            parts, at = [], pos + head
            for length in lengths:
                if length & _FD_FLAG:
                    parts.append(self._map(length & ~_FD_FLAG))
                    continue
                parts.append(buf[at:at + length])  # a bytearray copy: arrays rebuilt over it are writable
                at += length
            self.pos = pos + total
            return parts
        if total - (len(buf) - pos) < _LARGE:
            return None  # a small frame still arriving: wait for the next fill
        self._compact()
        return self._complete_large(head, lengths)

    def _compact(self):
        if self.pos:
            del self.buf[:self.pos]
            self.pos = 0

    def _map(self, nbytes):
        if not self.fds:
            raise ConnectionError("a buffer descriptor announced in a frame did not arrive")
        fd = self.fds.popleft()
        try:
            if os.fstat(fd).st_size < nbytes:
                raise ConnectionError("a buffer descriptor is smaller than its frame says")
            return mmap.mmap(fd, nbytes, flags=mmap.MAP_PRIVATE, prot=mmap.PROT_READ | mmap.PROT_WRITE)
        finally:
            os.close(fd)

    def _complete_large(self, head, lengths):
        # Move what is buffered into per-part buffers, then recv_into the rest: big parts are read exactly once.
        buf = self.buf
        pos = head
        parts = []
        for length in lengths:
            if length & _FD_FLAG:
                parts.append(self._map(length & ~_FD_FLAG))
                continue
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
            parts.append(part)
        del buf[:min(pos, len(buf))]
        return parts

    def close_pending(self):
        while self.fds:
            os.close(self.fds.popleft())


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
    if len(reader.buf) > reader.pos:
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
        raise ValueError(f"unsupported address {url!r}: expected tcp://host:port or ipc://@name")
    host, _, port = url[len("tcp://"):].rpartition(":")
    return host.strip("[]"), int(port)


def connect(url, key, identity=None, timeout=10.0):
    """An authenticated connection to ``tcp://host:port`` or ``ipc://@name`` (a Unix socket on this host)."""
    if url.startswith("ipc://@"):
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(timeout)
        try:
            sock.connect("\0" + url[len("ipc://@"):])
        except OSError:
            sock.close()
            raise
    else:
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


def listen_local(name):
    """A listening Unix socket in the abstract namespace (no file; reachable from this host only)."""
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.bind("\0" + name)
    sock.listen(128)
    return sock, f"ipc://@{name}"


def url_of(sock, advertised_ip=None):
    host, port = sock.getsockname()[:2]
    if advertised_ip:
        host = advertised_ip
    elif host in ("0.0.0.0", "::"):
        host = socket.gethostname()
    return f"tcp://{host}:{port}"

