"""The Python runtime that runs inside a Versa execution environment.

It speaks the Lambda Runtime API to the server as AWS's runtime interface client does: import the
handler once, then loop on next -> run -> report. Started by Versa, it does so over a framed pipe
instead of HTTP (FrameChannel below, runtime/frames.ts on the server's side); without one, over the
HTTP Runtime API.

Start-up time is the point of most choices here. The interpreter runs with -S (no `site` module,
whose .pth processing can cost tens of milliseconds), so the interpreter's own site-packages folder
is added by hand; the pipe is read and written with plain `os` calls on its descriptor, so the framed
runtime does not import `socket` at all; and HTTP is spoken over a plain keep-alive socket, because
`http.client` pulls in the `email` package and doubles the start-up time.
"""

import json
import os
import sys
import time

# The frame channel's descriptor, when Versa gave one: the variable is for this runtime, not the function.
FRAMES_FD = os.environ.pop("_VERSA_RUNTIME_FD", None)


def _add_site_packages():
    import sysconfig

    for key in ("purelib", "platlib"):
        path = sysconfig.get_paths().get(key)
        if path and path not in sys.path:
            sys.path.append(path)


# How often in a row a poll may be superseded by another of ours before the runtime gives up.
MAX_SUPERSEDED_POLLS = 3
# The exit status of a runtime that ended because of the Runtime API, not the function (Versa's logs name it).
RUNTIME_API_FAILED = 70


class RuntimeApiError(Exception):
    """The Runtime API answered something a runtime cannot go on from."""


class RuntimeClient:
    """A minimal HTTP/1.1 client for the Runtime API over one keep-alive connection."""

    def __init__(self, address):
        # "host:port" or "host:port/prefix": Versa puts the environment's secret in a path prefix.
        address, slash, prefix = address.partition("/")
        host, port = address.rsplit(":", 1)
        self._addr = (host, int(port))
        self._prefix = slash + prefix if slash else ""
        self._sock = None
        self._buf = b""

    def call(self, method, path, body=None, headers=None):
        data = body.encode("utf-8") if isinstance(body, str) else (body or b"")
        lines = ["%s %s/2018-06-01%s HTTP/1.1" % (method, self._prefix, path), "Host: %s:%d" % self._addr]
        for name, value in (headers or {}).items():
            lines.append("%s: %s" % (name, value))
        if method != "GET":
            lines.append("Content-Type: application/json")
            lines.append("Content-Length: %d" % len(data))
        request = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + data
        for attempt in (0, 1):
            try:
                if self._sock is None:
                    # Imported here: a runtime on Versa's pipe never needs it, and it costs start-up time.
                    import socket

                    self._sock = socket.create_connection(self._addr)
                    self._sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                    self._buf = b""
                self._sock.sendall(request)
                return self._read_response()
            except (OSError, ConnectionError):
                self._close()
                if attempt:
                    raise
        raise RuntimeError("unreachable")

    def _close(self):
        if self._sock is not None:
            try:
                self._sock.close()
            except OSError:
                pass
        self._sock = None

    def _recv(self):
        chunk = self._sock.recv(65536)
        if not chunk:
            raise ConnectionError("runtime API closed the connection")
        self._buf += chunk

    def _read_response(self):
        while b"\r\n\r\n" not in self._buf:
            self._recv()
        head, self._buf = self._buf.split(b"\r\n\r\n", 1)
        lines = head.decode("latin-1").split("\r\n")
        status = int(lines[0].split(" ", 2)[1])
        headers = {}
        for line in lines[1:]:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        if headers.get("transfer-encoding", "").lower() == "chunked":
            body = self._read_chunked()
        else:
            length = int(headers.get("content-length", "0"))
            while len(self._buf) < length:
                self._recv()
            body, self._buf = self._buf[:length], self._buf[length:]
        if headers.get("connection", "").lower() == "close":
            self._close()
        return status, headers, body

    def _read_chunked(self):
        body = b""
        while True:
            while b"\r\n" not in self._buf:
                self._recv()
            size_line, self._buf = self._buf.split(b"\r\n", 1)
            size = int(size_line.split(b";")[0], 16)
            while len(self._buf) < size + 2:
                self._recv()
            body += self._buf[:size]
            self._buf = self._buf[size + 2 :]
            if size == 0:
                return body


class HttpTransport:
    """The Runtime API over HTTP: what a runtime started without Versa's pipe speaks."""

    def __init__(self, address):
        self._client = RuntimeClient(address)

    def next(self):
        superseded = 0
        while True:
            status, headers, data = self._client.call("GET", "/runtime/invocation/next")
            if status == 409 and superseded < MAX_SUPERSEDED_POLLS:
                # Another poll of ours took this one's place (a request re-sent on a new connection can reach
                # the server after it): poll again rather than end.
                superseded += 1
                continue
            if status != 200:
                raise RuntimeApiError("the Runtime API answered %d to next" % status)
            return headers, data

    def respond(self, request_id, body):
        self._client.call("POST", "/runtime/invocation/%s/response" % request_id, body)

    def fail(self, request_id, body, error_type):
        self._client.call(
            "POST", "/runtime/invocation/%s/error" % request_id, body, {"Lambda-Runtime-Function-Error-Type": error_type}
        )

    def init_error(self, body, error_type):
        self._client.call("POST", "/runtime/init/error", body, {"Lambda-Runtime-Function-Error-Type": error_type})


# Frame types and layout: see runtime/frames.ts (a 4-byte big-endian length of what follows, a 1-byte
# type, the body).
INVOKE = 1
READY = 2
RESPONSE = 3
ERROR = 4
INIT_ERROR = 5
# What the read buffer holds between events; one made larger for a large event is dropped after it.
READ_BUFFER_BYTES = 65536


class FrameChannel:
    """The Runtime API as frames over the pipe Versa opened on FRAMES_FD.

    An INVOKE frame is a `next` poll's answer; RESPONSE and ERROR frames are the posts, after which the
    server knows the runtime waits again. Blocking reads into one reusable buffer, one write per frame.
    """

    def __init__(self, fd):
        self._fd = fd
        # The channel is the runtime's alone: what the function starts (os.system, say) does not inherit it.
        os.set_inheritable(fd, False)
        os.set_blocking(fd, True)
        self._buf = bytearray(READ_BUFFER_BYTES)
        # The unread bytes are self._buf[self._start:self._end].
        self._start = 0
        self._end = 0
        self._ready = False

    def next(self):
        if not self._ready:
            # The first wait is said; later ones follow from each report.
            self._ready = True
            self._write(b"\x00\x00\x00\x01" + bytes((READY,)))
        while True:
            self._fill(5)
            buf, start = self._buf, self._start
            length = int.from_bytes(buf[start : start + 4], "big") - 1
            kind = buf[start + 4]
            self._start = start + 5
            self._fill(length)
            start = self._start
            self._start = start + length
            if kind != INVOKE or length < 4:
                continue
            with memoryview(self._buf) as view:
                head_end = start + 4 + int.from_bytes(view[start : start + 4], "big")
                headers = json.loads(str(view[start + 4 : head_end], "utf-8"))
                data = bytes(view[head_end : start + length])
            if self._start == self._end:
                # Nothing more is buffered (the server sends one event at a time): start again at the front.
                self._start = self._end = 0
                if len(self._buf) > READ_BUFFER_BYTES:
                    self._buf = bytearray(READ_BUFFER_BYTES)
            return headers, data

    def respond(self, request_id, body):
        self._report(RESPONSE, request_id, body)

    def fail(self, request_id, body, error_type):
        self._report(ERROR, request_id, body)

    def init_error(self, body, error_type):
        data = body.encode("utf-8")
        self._write((len(data) + 1).to_bytes(4, "big") + bytes((INIT_ERROR,)) + data)

    def _report(self, kind, request_id, body):
        data = body.encode("utf-8")
        rid = request_id.encode("latin-1")
        head = (3 + len(rid) + len(data)).to_bytes(4, "big") + bytes((kind,)) + len(rid).to_bytes(2, "big") + rid
        if len(data) <= READ_BUFFER_BYTES:
            self._write(head + data)
        else:
            # A large payload is not copied to be joined to its head: two writes instead.
            self._write(head)
            self._write(data)

    def _fill(self, n):
        """Reads until at least `n` unread bytes are buffered."""
        if self._end - self._start >= n:
            return
        if self._start + n > len(self._buf):
            # Move what is unread to the front, into a larger buffer if the frame would not fit.
            pending = self._buf[self._start : self._end]
            if n > len(self._buf):
                self._buf = bytearray(n)
            self._buf[: len(pending)] = pending
            self._start, self._end = 0, len(pending)
        with memoryview(self._buf) as view:
            while self._end - self._start < n:
                got = os.readv(self._fd, [view[self._end :]])
                if not got:
                    raise ConnectionError("the frame channel closed")
                self._end += got

    def _write(self, data):
        sent = os.write(self._fd, data)
        if sent < len(data):
            with memoryview(data) as view:
                while sent < len(view):
                    sent += os.write(self._fd, view[sent:])


class LambdaContext:
    def __init__(self, headers):
        self.aws_request_id = headers.get("lambda-runtime-aws-request-id", "")
        self.invoked_function_arn = headers.get("lambda-runtime-invoked-function-arn", "")
        self._deadline_ms = int(headers.get("lambda-runtime-deadline-ms", "0") or 0)
        self.function_name = os.environ.get("AWS_LAMBDA_FUNCTION_NAME")
        self.function_version = os.environ.get("AWS_LAMBDA_FUNCTION_VERSION")
        self.memory_limit_in_mb = os.environ.get("AWS_LAMBDA_FUNCTION_MEMORY_SIZE")
        self.log_group_name = os.environ.get("AWS_LAMBDA_LOG_GROUP_NAME")
        self.log_stream_name = os.environ.get("AWS_LAMBDA_LOG_STREAM_NAME")
        self.identity = _parse_json(headers.get("lambda-runtime-cognito-identity"))
        self.client_context = _parse_json(headers.get("lambda-runtime-client-context"))

    def get_remaining_time_in_millis(self):
        return max(0, self._deadline_ms - int(time.time() * 1000))


def _parse_json(text):
    if not text:
        return None
    try:
        return json.loads(text)
    except ValueError:
        return None


# Where Lambda keeps the function's code and this runtime: frames are shown under these paths, as on
# AWS, wherever the code really is (without a sandbox it is in Versa's data folder).
_TASK_ROOT = os.environ.get("LAMBDA_TASK_ROOT", os.getcwd()).rstrip("/") + "/"
_RUNTIME_FILE = os.path.abspath(__file__)
STABLE_TASK_ROOT = "/var/task/"
STABLE_RUNTIME_FILE = "/var/runtime/bootstrap.py"


def _stable_path(filename):
    if filename == _RUNTIME_FILE:
        return STABLE_RUNTIME_FILE
    if filename.startswith(_TASK_ROOT):
        return STABLE_TASK_ROOT + filename[len(_TASK_ROOT) :]
    return filename


def stack_trace(tb):
    """The function's frames, formatted as AWS's runtime does: the runtime's own calls above the handler left out."""
    import traceback

    frames = traceback.extract_tb(tb)
    while frames and frames[0].filename == _RUNTIME_FILE:
        frames.pop(0)
    # Source lines are read from where the code really is, before its path is made the stable one.
    return traceback.format_list([(_stable_path(f.filename), f.lineno, f.name, f.line) for f in frames])


def error_body(exc, request_id=None, error_type=None):
    body = {
        "errorMessage": str(exc),
        "errorType": error_type or type(exc).__name__,
        "stackTrace": stack_trace(exc.__traceback__),
    }
    if request_id is not None:
        body["requestId"] = request_id
    return body


class _Named(Exception):
    def __init__(self, error_type, message):
        super().__init__(message)
        self.error_type = error_type


def load_handler(spec):
    import importlib

    module_name, _, func_name = spec.rpartition(".")
    if not module_name:
        raise _Named("Runtime.MalformedHandlerName", "Bad handler '%s': not enough values to unpack (expected 2, got 1)" % spec)
    module_name = module_name.replace("/", ".")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise _Named("Runtime.ImportModuleError", "Unable to import module '%s': %s" % (module_name, exc)) from exc
    except SyntaxError as exc:
        raise _Named("Runtime.UserCodeSyntaxError", "Syntax error in module '%s': %s" % (module_name, exc)) from exc
    handler = getattr(module, func_name, None)
    if handler is None:
        raise _Named("Runtime.HandlerNotFound", "Handler '%s' missing on module '%s'" % (func_name, module_name))
    return handler


def main():
    _add_site_packages()
    if FRAMES_FD is not None:
        transport = FrameChannel(int(FRAMES_FD))
    else:
        transport = HttpTransport(os.environ.get("AWS_LAMBDA_RUNTIME_API", "127.0.0.1:9001"))
    task_root = os.environ.get("LAMBDA_TASK_ROOT", os.getcwd())
    if task_root not in sys.path:
        sys.path.insert(0, task_root)
    try:
        handler = load_handler(os.environ.get("_HANDLER", ""))
    except Exception as exc:  # noqa: BLE001 - every init failure is reported to the platform
        error_type = getattr(exc, "error_type", "Runtime.ImportModuleError")
        body = error_body(exc, error_type=error_type)
        body["stackTrace"] = []
        sys.stdout.write("[ERROR] %s: %s\n" % (error_type, exc))
        sys.stdout.flush()
        try:
            transport.init_error(json.dumps(body), error_type)
        except OSError:
            pass
        sys.exit(1)

    while True:
        headers, data = transport.next()
        context = LambdaContext(headers)
        request_id = context.aws_request_id
        trace_id = headers.get("lambda-runtime-trace-id")
        if trace_id:
            os.environ["_X_AMZN_TRACE_ID"] = trace_id
        try:
            event = json.loads(data or b"null")
            result = handler(event, context)
            body = json.dumps(result)
        except Exception as exc:  # noqa: BLE001 - user errors become the invocation's error payload
            err = error_body(exc, request_id)
            sys.stdout.write("[ERROR] %s: %s\n" % (err["errorType"], err["errorMessage"]))
            sys.stdout.write("Traceback (most recent call last):\n" + "".join(err["stackTrace"]))
            # The output is in its pipe before the report is sent: the server logs it before END.
            sys.stdout.flush()
            transport.fail(request_id, json.dumps(err), err["errorType"])
            continue
        sys.stdout.flush()
        transport.respond(request_id, body)


def run():
    try:
        main()
    except (RuntimeApiError, OSError):
        # The Runtime API went away (the environment is being stopped) or answered what a runtime cannot
        # go on from. That is the platform's business, and Versa reports it in its own log when the
        # process ends: nothing is written here, so the function's log shows no traceback it did not make.
        os._exit(RUNTIME_API_FAILED)


if __name__ == "__main__":
    run()
