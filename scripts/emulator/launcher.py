"""Start moto's server for the project's local target, with the project's patches applied first.

Run with the project's venv python (never the machine's python):

    .local/venv/bin/python scripts/emulator/launcher.py --port 4566 [--patches all|none|name,name]

The launcher never touches the venv's files: every patch is applied in memory, in this process, before
the werkzeug server is created. It prints one line ``EMULATOR READY <json>`` on stdout once the socket
is listening, then serves until SIGTERM/SIGINT. Exit codes: 0 stopped by signal, 2 bad arguments,
3 the port is already in use, 4 a patch failed to apply.
"""
from __future__ import annotations

import argparse
import errno
import json
import os
import signal
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
if HERE not in sys.path:
    sys.path.insert(0, HERE)


def parse_args(argv: list[str]) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=int(os.environ.get("EMULATOR_PORT") or 0) or None, required=False)
    p.add_argument("--patches", default=os.environ.get("EMULATOR_PATCHES", "all"),
                   help="all (default), none, or a comma-separated list of patch names")
    p.add_argument("--list-patches", action="store_true", help="print the patches and exit")
    args = p.parse_args(argv)
    if not args.list_patches and not args.port:
        p.error("--port is required (or EMULATOR_PORT)")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)

    import patches  # noqa: E402  (scripts/emulator/patches)

    if args.list_patches:
        for name, fn in patches.REGISTRY.items():
            print(f"{name}: {(fn.__doc__ or '').strip().splitlines()[0]}")
        return 0

    # moto reads MOTO_PORT for the URLs it renders (for example SQS queue URLs).
    os.environ["MOTO_PORT"] = str(args.port)
    try:
        applied = patches.apply(args.patches)
    except Exception as exc:  # a patch that no longer fits moto must stop the launch, loudly
        print(f"EMULATOR PATCH FAILED: {exc!r}", file=sys.stderr, flush=True)
        return 4

    from werkzeug.serving import make_server
    from moto.moto_server.werkzeug_app import (
        DomainDispatcherApplication,
        MotoRequestHandler,
        create_backend_app,
    )

    app = DomainDispatcherApplication(create_backend_app)
    try:
        server = make_server(args.host, args.port, app, threaded=True, request_handler=MotoRequestHandler)
    except OSError as exc:
        if exc.errno == errno.EADDRINUSE or "in use" in str(exc):
            print(f"EMULATOR PORT IN USE: {args.host}:{args.port}", file=sys.stderr, flush=True)
            return 3
        raise
    except SystemExit:  # werkzeug exits(1) on a port in use
        print(f"EMULATOR PORT IN USE: {args.host}:{args.port}", file=sys.stderr, flush=True)
        return 3

    def stop(signum, _frame):  # noqa: ANN001
        threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)

    ready = {"pid": os.getpid(), "host": args.host, "port": server.server_port, "patches": applied,
             "moto": __import__("moto").__version__}
    print("EMULATOR READY " + json.dumps(ready), flush=True)
    started = time.time()
    server.serve_forever()
    print(f"EMULATOR STOPPED after {time.time() - started:.1f}s", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
