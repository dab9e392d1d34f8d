"""A small SMTP server for the notification tests (aiosmtpd).

Listens on 127.0.0.1:PORT (0 picks a free port), prints
"listening on PORT" once it accepts connections, and writes each message
it accepts to DIR as NNNNNN.eml: an "X-Envelope-To: ADDR" line per
envelope recipient, then the raw message. Files appear atomically
(written under a temporary name, then renamed).

With --reject every RCPT is answered "550 5.1.1 mailbox unavailable", a
permanent failure, so nothing is ever accepted. With --tls starttls the
server requires STARTTLS before any mail; with --tls implicit it speaks TLS
from the first byte (smtps); both use --cert and --key (PEM).

    python smtp_sink.py --dir DIR [--port 0] [--reject]
                        [--tls starttls|implicit --cert FILE --key FILE]

Runs until it is killed (SIGTERM or SIGINT).
"""

import argparse
import asyncio
import itertools
import os
import signal
import ssl
import sys

from aiosmtpd.smtp import SMTP


class Sink:
    def __init__(self, directory, reject):
        self.directory = directory
        self.reject = reject
        self.counter = itertools.count(1)

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if self.reject:
            return "550 5.1.1 mailbox unavailable"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        n = next(self.counter)
        head = "".join(f"X-Envelope-To: {r}\r\n" for r in envelope.rcpt_tos)
        data = envelope.original_content or envelope.content
        if isinstance(data, str):
            data = data.encode("utf-8")
        final = os.path.join(self.directory, f"{os.getpid()}-{n:06d}.eml")
        temporary = final + ".part"
        with open(temporary, "wb") as f:
            f.write(head.encode("ascii"))
            f.write(data)
        os.replace(temporary, final)
        return "250 Message accepted for delivery"


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--dir", required=True)
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--reject", action="store_true")
    parser.add_argument("--tls", choices=["starttls", "implicit"])
    parser.add_argument("--cert")
    parser.add_argument("--key")
    args = parser.parse_args()
    os.makedirs(args.dir, exist_ok=True)
    sink = Sink(args.dir, args.reject)

    context = None
    if args.tls:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(args.cert, args.key)

    def protocol():
        if args.tls == "starttls":
            return SMTP(
                sink,
                hostname="sink.test",
                decode_data=False,
                tls_context=context,
                require_starttls=True,
            )
        return SMTP(sink, hostname="sink.test", decode_data=False)

    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    server = loop.run_until_complete(
        loop.create_server(
            protocol,
            host="127.0.0.1",
            port=args.port,
            reuse_address=True,
            ssl=context if args.tls == "implicit" else None,
        )
    )
    port = server.sockets[0].getsockname()[1]
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, loop.stop)
    print(f"listening on {port}", flush=True)
    try:
        loop.run_forever()
    finally:
        server.close()
        loop.run_until_complete(server.wait_closed())
        loop.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
