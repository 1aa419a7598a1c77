"""The Python runtime that runs inside a Versa execution environment.

It speaks the Lambda Runtime API to the server as AWS's runtime interface client does: import the
handler once, then loop on next -> run -> report. Standard library only, so it starts fast.
"""

import http.client
import importlib
import json
import os
import sys
import time
import traceback

API = os.environ.get("AWS_LAMBDA_RUNTIME_API", "127.0.0.1:9001")
PREFIX = "/2018-06-01"


class RuntimeClient:
    def __init__(self, address):
        host, port = address.rsplit(":", 1)
        self._host = host
        self._port = int(port)
        self._conn = None

    def call(self, method, path, body=None, headers=None):
        payload = body.encode("utf-8") if isinstance(body, str) else body
        for attempt in (0, 1):
            if self._conn is None:
                self._conn = http.client.HTTPConnection(self._host, self._port)
            try:
                hdrs = dict(headers or {})
                if payload is not None:
                    hdrs["Content-Type"] = "application/json"
                self._conn.request(method, PREFIX + path, body=payload, headers=hdrs)
                res = self._conn.getresponse()
                data = res.read()
                return res.status, res, data
            except (http.client.HTTPException, ConnectionError):
                self._conn.close()
                self._conn = None
                if attempt:
                    raise
        raise RuntimeError("unreachable")


class LambdaContext:
    def __init__(self, headers):
        self.aws_request_id = headers.get("Lambda-Runtime-Aws-Request-Id", "")
        self.invoked_function_arn = headers.get("Lambda-Runtime-Invoked-Function-Arn", "")
        self._deadline_ms = int(headers.get("Lambda-Runtime-Deadline-Ms", "0") or 0)
        self.function_name = os.environ.get("AWS_LAMBDA_FUNCTION_NAME")
        self.function_version = os.environ.get("AWS_LAMBDA_FUNCTION_VERSION")
        self.memory_limit_in_mb = os.environ.get("AWS_LAMBDA_FUNCTION_MEMORY_SIZE")
        self.log_group_name = os.environ.get("AWS_LAMBDA_LOG_GROUP_NAME")
        self.log_stream_name = os.environ.get("AWS_LAMBDA_LOG_STREAM_NAME")
        self.identity = _parse_json(headers.get("Lambda-Runtime-Cognito-Identity"))
        self.client_context = _parse_json(headers.get("Lambda-Runtime-Client-Context"))

    def get_remaining_time_in_millis(self):
        return max(0, self._deadline_ms - int(time.time() * 1000))


def _parse_json(text):
    if not text:
        return None
    try:
        return json.loads(text)
    except ValueError:
        return None


def error_body(exc, request_id=None, error_type=None):
    body = {
        "errorMessage": str(exc),
        "errorType": error_type or type(exc).__name__,
        "stackTrace": traceback.format_list(traceback.extract_tb(exc.__traceback__)),
    }
    if request_id is not None:
        body["requestId"] = request_id
    return body


def load_handler(spec):
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


class _Named(Exception):
    def __init__(self, error_type, message):
        super().__init__(message)
        self.error_type = error_type


def main():
    client = RuntimeClient(API)
    task_root = os.environ.get("LAMBDA_TASK_ROOT", os.getcwd())
    if task_root not in sys.path:
        sys.path.insert(0, task_root)
    try:
        handler = load_handler(os.environ.get("_HANDLER", ""))
    except Exception as exc:  # noqa: BLE001 - every init failure is reported to the platform
        error_type = getattr(exc, "error_type", "Runtime.ImportModuleError")
        body = error_body(exc, error_type=error_type)
        body["stackTrace"] = []
        print("[ERROR] %s: %s" % (error_type, exc), flush=True)
        client.call("POST", "/runtime/init/error", json.dumps(body), {"Lambda-Runtime-Function-Error-Type": error_type})
        sys.exit(1)

    while True:
        status, res, data = client.call("GET", "/runtime/invocation/next")
        if status != 200:
            raise RuntimeError("runtime API answered %d to next" % status)
        headers = {k: v for k, v in res.getheaders()}
        headers = {k.title(): v for k, v in headers.items()}
        context = LambdaContext(headers)
        request_id = context.aws_request_id
        trace_id = headers.get("Lambda-Runtime-Trace-Id")
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
            sys.stdout.flush()
            client.call(
                "POST",
                "/runtime/invocation/%s/error" % request_id,
                json.dumps(err),
                {"Lambda-Runtime-Function-Error-Type": err["errorType"]},
            )
            continue
        sys.stdout.flush()
        client.call("POST", "/runtime/invocation/%s/response" % request_id, body)


if __name__ == "__main__":
    main()
