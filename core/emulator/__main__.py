"""`python -m core.emulator --port N --registry HOST:PORT --workdir DIR`: the strict emulator, until SIGTERM.

The sandbox (core/aws/sandbox.py) starts it; on SIGTERM or Ctrl-C it removes the containers it runs. Those of
an emulator that was killed are removed when the next one starts (they carry its process's labels).
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
from pathlib import Path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m core.emulator", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--registry", required=True, help="host:port of the registry the push step pushes to")
    parser.add_argument("--workdir", type=Path, required=True, help="where endpoints' models are unpacked")
    parser.add_argument("--min-delay", type=float, default=0.0,
                        help="seconds Creating and Updating last at least (for tests of waiting and kills)")
    parser.add_argument("--health-timeout", type=float, default=600.0,
                        help="seconds a container has to answer GET /ping")
    args = parser.parse_args(argv)
    os.environ.setdefault("MOTO_IAM_LOAD_MANAGED_POLICIES", "true")  # AmazonSageMakerFullAccess must exist

    from moto.moto_server.werkzeug_app import MotoRequestHandler
    from werkzeug.serving import make_server

    from core.container import docker_api, serving
    from core.emulator import server
    from core.emulator.endpoints import Endpoints

    endpoints = Endpoints(args.registry, args.workdir, args.min_delay, args.health_timeout)
    server.install(endpoints)
    try:
        serving.remove_orphans(docker_api.client())  # the containers of a killed emulator
    except Exception as exc:  # no Docker engine yet: endpoints will fail with the reason, as on SageMaker
        print(f"Docker is not reachable ({exc}); endpoints cannot start until it is.", file=sys.stderr)
    httpd = make_server(args.host, args.port, server.application(endpoints), threaded=True,
                        request_handler=MotoRequestHandler)

    def stop(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, stop)
    print(f"sagewiz emulator on http://{args.host}:{args.port}, images from {args.registry}", flush=True)
    try:
        httpd.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        endpoints.stop_all()
    return 0


if __name__ == "__main__":
    sys.exit(main())
