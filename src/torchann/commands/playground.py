"""Open chapter 3 in a browser: train a network live and race 3.2's solvers, with PyTorch.

Starts a local web page (nothing leaves the machine) with two tabs. 3.3: the chapter's XOR
blobs, circle, Gaussians, spiral or your own CSV; layers, neurons, activation, features,
optimizer and regularization; play, pause, step; the decision heatmap, every neuron's
heatmap, the weights, and the PyTorch code of the network it trains. 3.2: the broken image
restored live by gd and cg side by side.

The server listens on 127.0.0.1 only, unless --host says otherwise. Stop it with Ctrl-C.
"""

from __future__ import annotations

from torchann.commands import add_lang

DEFAULT_PORT = 8765


def add_arguments(parser):
    """Add the options of ``torchann playground``."""
    parser.add_argument("--port", type=int, default=DEFAULT_PORT,
                        help=f"port to listen on; 0 picks a free one (default: {DEFAULT_PORT})")
    parser.add_argument("--host", default="127.0.0.1",
                        help="address to listen on (default: 127.0.0.1, this machine only); "
                             "anything else lets other machines train models on this one")
    parser.add_argument("--no-browser", action="store_true",
                        help="only print the address; do not open a browser")
    add_lang(parser, "the page (it has a toggle) and of these messages")


def _loopback(host: str) -> bool:
    import ipaddress

    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def run(args):
    """Serve the playground until Ctrl-C."""
    import socket
    import sys
    import threading
    import webbrowser

    import uvicorn

    from torchann.errors import TorchannError
    from torchann.i18n import language, tr
    from torchann.playground.server import MAX_MESSAGE, create_app
    from torchann.playground.session import warm_up
    from torchann.runtime import set_threads

    lang = language(args.lang)
    if not 0 <= args.port <= 65535:
        raise TorchannError(key="playground.port", port=args.port)
    family = socket.AF_INET6 if ":" in args.host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((args.host.strip("[]"), args.port))
    except OSError as err:
        sock.close()
        raise TorchannError(key="playground.listen", host=args.host, port=args.port,
                            reason=err.strerror or err) from None
    sock.listen(128)  # connections wait in the backlog until uvicorn starts accepting
    port = sock.getsockname()[1]
    shown = f"[{args.host.strip('[]')}]" if family == socket.AF_INET6 else args.host
    hosts = {f"{shown}:{port}", f"127.0.0.1:{port}", f"localhost:{port}", f"[::1]:{port}"}
    if not _loopback(args.host):
        print(tr("playground.exposed", lang, host=args.host), file=sys.stderr)
        if args.host in ("0.0.0.0", "::"):  # every name and address of this machine
            name = socket.gethostname().lower()
            try:
                addresses = socket.gethostbyname_ex(name)[2]
            except OSError:
                addresses = []
            hosts |= {f"{h}:{port}" for h in [name, *addresses]}
    # the event loop hands the GIL to and from the training threads often, so that a page's
    # message is read within a millisecond or so rather than after the default 5 ms slices
    sys.setswitchinterval(0.0005)
    set_threads(1)  # small networks: one thread is fastest and leaves the other cores free
    url = f"http://{'127.0.0.1' if args.host in ('0.0.0.0', '::') else shown}:{port}/"
    if lang != "en":
        url += f"?lang={lang}"
    threading.Thread(target=warm_up, daemon=True).start()  # while the browser starts
    app = create_app(hosts, lang=lang)
    config = uvicorn.Config(app, log_level="warning", ws_max_size=MAX_MESSAGE + 1024,
                            lifespan="off", timeout_graceful_shutdown=2)
    server = uvicorn.Server(config)
    print(tr("playground.listening", lang, url=url), flush=True)
    if not args.no_browser:
        webbrowser.open(url)
    server.run(sockets=[sock])
    if server.should_exit:  # uvicorn caught Ctrl-C or SIGTERM
        raise KeyboardInterrupt
    return 0
