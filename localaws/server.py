"""The emulator process: moto's WSGI app on 127.0.0.1, extensions installed.

Run by ``bin/local-aws start`` as ``python -m localaws.server --port N``.
It binds 127.0.0.1 only (never 0.0.0.0): nothing outside this machine can
reach the emulator, its fake credentials or the data in it.
"""
from __future__ import annotations

import argparse
import logging
import os
import signal
import sys

HOST = "127.0.0.1"


def build_server(port: int):
    """Install the extensions, then bind. Raises OSError when the port is taken."""
    # Roles attach AWS-managed policies by ARN (AWSLambdaBasicExecutionRole);
    # moto knows them only when told to load them (about 0.8 s, once per account).
    os.environ.setdefault("MOTO_IAM_LOAD_MANAGED_POLICIES", "true")
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication, MotoRequestHandler, create_backend_app
    from werkzeug.serving import make_server

    from localaws import cfn, operator_changes
    from localaws.execute_api import ExecuteApi

    cfn.install()
    operator_changes.install()
    # HTTP API requests run the deployed function (localaws/execute_api.py); the rest is moto.
    # Every API call is recorded by caller and action (localaws/api_calls.py).
    from localaws.api_calls import ApiCallRecorder

    app = ApiCallRecorder(ExecuteApi(DomainDispatcherApplication(create_backend_app)))
    return make_server(HOST, port, app, threaded=True, request_handler=MotoRequestHandler)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m localaws.server", description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        server = build_server(args.port)
    except OSError as exc:
        print(f"local-aws: cannot listen on {HOST}:{args.port}: {exc.strerror or exc}", file=sys.stderr)
        return 2

    def stop(signum, frame):  # noqa: ARG001 - signal handler signature
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, stop)
    print(f"local-aws: listening on http://{HOST}:{args.port}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        from localaws.execute_api import stop_all

        stop_all()  # the functions' warm processes go with the target
        server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
