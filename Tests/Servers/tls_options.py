"""HTTPS for the test servers: `--tls-cert FILE --tls-key FILE [--tls-client-ca FILE]`, as uvicorn settings.

uvicorn applies them to sockets it is handed too (`Server.run(sockets=[...])` wraps each with the same SSL
context), so the scripts keep binding their own socket and printing its port before serving.
"""

import ssl


def add_tls_arguments(parser):
    parser.add_argument("--tls-cert", help="serve HTTPS with this certificate (PEM; needs --tls-key)")
    parser.add_argument("--tls-key", help="the certificate's private key (PEM)")
    parser.add_argument("--tls-client-ca", help="require a client certificate signed by this CA (mutual TLS)")


def uvicorn_tls(args) -> dict:
    """uvicorn.Config keywords for the TLS arguments: none for plain HTTP."""
    if not args.tls_cert:
        if args.tls_key or args.tls_client_ca:
            raise SystemExit("--tls-key and --tls-client-ca need --tls-cert")
        return {}
    if not args.tls_key:
        raise SystemExit("--tls-cert needs --tls-key")
    settings = {"ssl_certfile": args.tls_cert, "ssl_keyfile": args.tls_key}
    if args.tls_client_ca:
        settings.update(ssl_ca_certs=args.tls_client_ca, ssl_cert_reqs=ssl.CERT_REQUIRED)
    return settings
