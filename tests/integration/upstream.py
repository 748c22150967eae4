#!/usr/bin/python3
"""A real upstream SMTP server for the integration tests (Debian's aiosmtpd).

Speaks implicit TLS, STARTTLS or plaintext, can require AUTH, and writes every
accepted message to --maildir as N.eml (the bytes as received) with N.json
(the envelope: mail_from, rcpt_tos, auth_user, tls, peer).  Faults for the
delivery tests are injected with the --reject-* options.

Run with /usr/bin/python3: the python3 first on PATH may lack aiosmtpd.
"""
import argparse
import asyncio
import json
import os
import signal
import ssl
import sys
import threading

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, LoginPassword


class Handler:
    def __init__(self, args):
        self.args = args
        self.count = 0
        self.lock = threading.Lock()
        self.temp_failures_left = args.tempfail_data

    async def handle_MAIL(self, server, session, envelope, address, mail_options):
        if self.args.reject_mail:
            return self.args.reject_mail
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 OK"

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if self.args.reject_rcpt:
            return self.args.reject_rcpt
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        if self.args.reject_data:
            return self.args.reject_data
        with self.lock:
            if self.temp_failures_left > 0:
                self.temp_failures_left -= 1
                return "451 4.3.0 try again later"
            self.count += 1
            n = self.count
        base = os.path.join(self.args.maildir, "%06d" % n)
        auth_user = None
        if session.auth_data is not None:
            auth_user = session.auth_data.decode() if isinstance(session.auth_data, bytes) else str(session.auth_data)
        meta = {
            "mail_from": envelope.mail_from,
            "rcpt_tos": envelope.rcpt_tos,
            "mail_options": envelope.mail_options,
            "auth_user": auth_user,
            "tls": bool(session.ssl) or self.args.tls == "implicit",
            "peer": list(session.peer) if session.peer else None,
        }
        with open(base + ".eml.tmp", "wb") as f:
            f.write(envelope.original_content or envelope.content)
        with open(base + ".json.tmp", "w") as f:
            json.dump(meta, f)
        os.rename(base + ".eml.tmp", base + ".eml")
        os.rename(base + ".json.tmp", base + ".json")
        return "250 2.0.0 Ok: stored as %06d" % n


def make_authenticator(users):
    def authenticator(server, session, envelope, mechanism, auth_data):
        if not isinstance(auth_data, LoginPassword):
            return AuthResult(success=False, handled=False)
        user = auth_data.login.decode()
        if users.get(user) == auth_data.password.decode():
            # handled=False keeps our auth_data in session.auth_data.
            return AuthResult(success=True, handled=False, auth_data=user)
        return AuthResult(success=False, handled=False)
    return authenticator


class UpstreamController(Controller):
    def __init__(self, handler, args, tls_context, **kwargs):
        self.args = args
        self.tls_context = tls_context
        super().__init__(handler, **kwargs)

    def factory(self):
        a = self.args
        kw = dict(
            hostname="upstream.test",
            enable_SMTPUTF8=True,
            decode_data=False,
            data_size_limit=64 * 1024 * 1024,
        )
        if a.users:
            kw["authenticator"] = make_authenticator(a.users)
            kw["auth_required"] = True
            # Implicit TLS is not counted as TLS by aiosmtpd 1.4: the
            # connection is already encrypted, so do not hide AUTH.
            kw["auth_require_tls"] = a.tls != "implicit"
        if a.tls == "starttls":
            kw["tls_context"] = self.tls_context
            kw["require_starttls"] = True
        return SMTP(self.handler, **kw)


def main():
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--tls", choices=["implicit", "starttls", "none"], default="starttls")
    p.add_argument("--cert")
    p.add_argument("--key")
    p.add_argument("--auth", action="append", default=[], metavar="USER:PASSWORD")
    p.add_argument("--maildir", required=True)
    p.add_argument("--ready-file", help="written once the server accepts connections")
    p.add_argument("--reject-mail", help="reply to every MAIL FROM, e.g. '553 5.7.1 not allowed'")
    p.add_argument("--reject-rcpt", help="reply to every RCPT TO")
    p.add_argument("--reject-data", help="reply after every final dot")
    p.add_argument("--tempfail-data", type=int, default=0, help="answer the first N messages 451")
    args = p.parse_args()
    args.users = dict(u.split(":", 1) for u in args.auth)
    os.makedirs(args.maildir, exist_ok=True)

    ctx = None
    if args.tls != "none":
        ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        ctx.load_cert_chain(args.cert, args.key)
    kwargs = dict(hostname=args.host, port=args.port)
    if args.tls == "implicit":
        kwargs["ssl_context"] = ctx
    controller = UpstreamController(Handler(args), args, ctx, **kwargs)
    controller.start()
    if args.ready_file:
        with open(args.ready_file, "w") as f:
            f.write(str(os.getpid()))
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *a: stop.set())
    signal.signal(signal.SIGINT, lambda *a: stop.set())
    while not stop.wait(1):
        pass
    controller.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
