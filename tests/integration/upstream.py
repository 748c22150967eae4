#!/usr/bin/python3
"""A real upstream SMTP server for the integration tests (Debian's aiosmtpd).

Speaks implicit TLS, STARTTLS or plaintext, can require AUTH, and writes every
accepted message to --maildir as N.eml (the bytes as received) with N.json
(the envelope: mail_from, rcpt_tos, auth_user, tls, peer).  Faults for the
delivery tests are injected with the --reject-* options, and for the client
and probe tests with --fault (no-starttls, starttls-inject, stall, drop-data,
see below).  Every AUTH attempt is logged to stdout as "cmd AUTH ..." (never
its payload), so a test can assert that no AUTH was sent.  With
--log-sessions each connection is numbered and logged as it goes:
"sess N connect T", "sess N cmd VERB", "sess N auth USER",
"sess N mail SENDER", "sess N disconnect T" (T: Unix time, float), and
each N.json also holds "session" and "time".

Run with /usr/bin/python3: the python3 first on PATH may lack aiosmtpd.
"""
import argparse
import asyncio
import base64
import json
import os
import socket
import ssl
import sys
import threading
import time

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, LoginPassword

sys.dont_write_bytecode = True     # nothing written into the source tree (read-only under distcheck)
from serve_lib import serve_until_signal  # noqa: E402  (this script's directory)


class Handler:
    def __init__(self, args):
        self.args = args
        self.count = 0
        self.lock = threading.Lock()
        self.temp_failures_left = args.tempfail_data

    async def handle_EHLO(self, server, session, envelope, hostname, responses):
        session.host_name = hostname
        if self.args.no_8bitmime:
            # An RFC 5321 server without RFC 6152: it must get 7-bit content.
            responses = [r for r in responses if r[4:] != "8BITMIME"]
        if self.args.pipelining:
            # aiosmtpd reads commands in order from the stream, so it copes
            # with pipelined clients; it only does not say so.
            responses = responses[:-1] + ["250-PIPELINING", responses[-1]]
        return responses

    async def handle_MAIL(self, server, session, envelope, address, mail_options):
        if getattr(server, "sess_no", None) is not None:
            log("sess %d mail %s" % (server.sess_no, address))
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
        if self.args.data_delay > 0:
            # A slow upstream: the relay's workers stay busy (in flight).
            await asyncio.sleep(self.args.data_delay)
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
            "session": getattr(server, "sess_no", None),
            "time": time.time(),
        }
        with open(base + ".eml.tmp", "wb") as f:
            f.write(envelope.original_content or envelope.content)
        with open(base + ".json.tmp", "w") as f:
            json.dump(meta, f)
        os.rename(base + ".eml.tmp", base + ".eml")
        os.rename(base + ".json.tmp", base + ".json")
        return "250 2.0.0 Ok: stored as %06d" % n


class NoAuthHandler(Handler):
    """aiosmtpd announces AUTH even with no authenticator: hide it."""

    async def handle_EHLO(self, server, session, envelope, hostname, responses):
        responses = await super().handle_EHLO(server, session, envelope, hostname, responses)
        return [r for r in responses if not r.startswith("250-AUTH")]


def make_authenticator(users, fail_reply=None):
    def authenticator(server, session, envelope, mechanism, auth_data):
        if not isinstance(auth_data, LoginPassword):
            return AuthResult(success=False, handled=False)
        user = auth_data.login.decode()
        if users.get(user) == auth_data.password.decode():
            if getattr(server, "sess_no", None) is not None:
                log("sess %d auth %s" % (server.sess_no, user))
            # handled=False keeps our auth_data in session.auth_data.
            return AuthResult(success=True, handled=False, auth_data=user)
        return AuthResult(success=False, handled=False, message=fail_reply)
    return authenticator


def log(text):
    print(text, flush=True)


class LoggingSMTP(SMTP):
    """aiosmtpd's server, logging each AUTH attempt (not its data)."""

    log_sessions = False
    sessions = 0
    sessions_lock = threading.Lock()
    sess_no = None

    async def smtp_AUTH(self, arg):
        log("cmd AUTH %s" % (arg.split()[0] if arg else ""))
        self._log_verb("AUTH")
        return await super().smtp_AUTH(arg)

    def _log_verb(self, verb):
        if self.sess_no is not None:
            log("sess %d cmd %s" % (self.sess_no, verb))

    def connection_made(self, transport):
        if self.log_sessions and self.sess_no is None:  # again after STARTTLS
            with LoggingSMTP.sessions_lock:
                LoggingSMTP.sessions += 1
                self.sess_no = LoggingSMTP.sessions
            log("sess %d connect %.6f" % (self.sess_no, time.time()))
        super().connection_made(transport)

    def _timeout_cb(self):
        # aiosmtpd's idle timeout (--idle-timeout): logged so that tests can
        # wait for it instead of sleeping.
        log("idle-timeout %s" % (self.sess_no if self.sess_no is not None else "-"))
        super()._timeout_cb()

    def connection_lost(self, error):
        if self.sess_no is not None and not getattr(self, "sess_gone", False):
            self.sess_gone = True
            log("sess %d disconnect %.6f" % (self.sess_no, time.time()))
        super().connection_lost(error)


def _verb_logger(verb):
    async def method(self, arg):
        self._log_verb(verb)
        return await getattr(SMTP, "smtp_" + verb)(self, arg)
    return method


for _verb in ("EHLO", "HELO", "MAIL", "RCPT", "DATA", "RSET", "NOOP", "QUIT", "STARTTLS"):
    setattr(LoggingSMTP, "smtp_" + _verb, _verb_logger(_verb))


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
            kw["authenticator"] = make_authenticator(a.users, a.auth_fail_reply)
            kw["auth_required"] = True
            # Implicit TLS is not counted as TLS by aiosmtpd 1.4: the
            # connection is already encrypted, so do not hide AUTH.
            kw["auth_require_tls"] = a.tls != "implicit"
        if a.tls == "starttls" and a.fault != "no-starttls":
            kw["tls_context"] = self.tls_context
            kw["require_starttls"] = True
        if a.idle_timeout:
            # aiosmtpd closes a connection silent for this long (421 first).
            kw["timeout"] = a.idle_timeout
        if a.fault == "no-starttls" and a.users:
            # The worst case: AUTH offered in plaintext, which a client must
            # still never use.
            kw["auth_require_tls"] = False
        return LoggingSMTP(self.handler, **kw)


class RawServer:
    """A hand-written SMTP server for faults aiosmtpd cannot produce.

    stall:            accepts connections and never says a word.
    starttls-inject:  answers STARTTLS with its 220 and, in the same write,
                      a forged reply (CVE-2021-38371 class); -late: the
                      forged reply follows in its own segment.
    drop-data:        accepts DATA, reads the first body bytes, and closes
                      the connection in the middle of the message.
    It speaks implicit TLS or STARTTLS like the real one, and AUTH
    PLAIN/LOGIN against --auth; every command verb is logged ("cmd VERB").
    """

    def __init__(self, args, ctx):
        self.args = args
        self.ctx = ctx
        self.stop = threading.Event()
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind((args.host, args.port))
        self.sock.listen(16)
        self.sock.settimeout(0.5)
        self.thread = threading.Thread(target=self.serve, daemon=True)

    def start(self):
        self.thread.start()

    def serve(self):
        while not self.stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            threading.Thread(target=self.session, args=(conn,), daemon=True).start()

    def close(self):
        self.stop.set()
        self.sock.close()

    def session(self, conn):
        log("connect")
        conn.settimeout(60)
        try:
            if self.args.fault == "stall":
                # Hold the connection, read and discard, until the peer goes.
                while not self.stop.is_set():
                    try:
                        conn.settimeout(0.5)
                        if conn.recv(4096) == b"":
                            break
                    except socket.timeout:
                        continue
                return
            self.dialogue(conn)
        except (OSError, ssl.SSLError) as e:
            log("session ended: %s" % e)
        finally:
            try:
                conn.close()
            except OSError:
                pass

    def dialogue(self, conn):
        a = self.args
        tls = False
        if a.tls == "implicit":
            conn = self.ctx.wrap_socket(conn, server_side=True)
            tls = True
        buf = bytearray()

        def readline():
            while b"\n" not in buf:
                data = conn.recv(4096)
                if not data:
                    raise OSError("peer closed")
                buf.extend(data)
            i = buf.index(b"\n") + 1
            line = bytes(buf[:i])
            del buf[:i]
            return line.rstrip(b"\r\n").decode("utf-8", "replace")

        def send(text):
            conn.sendall(text.encode())

        send("220 raw.test ESMTP fault server\r\n")
        while True:
            line = readline()
            verb = line.split(" ", 1)[0].upper()
            log("cmd %s" % verb)
            if verb in ("EHLO", "HELO"):
                caps = ["raw.test", "PIPELINING", "8BITMIME", "ENHANCEDSTATUSCODES"]
                if a.tls == "starttls" and not tls:
                    caps.append("STARTTLS")
                if a.users and (tls or a.tls == "none"):
                    caps.append("AUTH PLAIN LOGIN")
                send("".join("250%s%s\r\n" % ("-" if i < len(caps) - 1 else " ", c)
                             for i, c in enumerate(caps)))
            elif verb == "STARTTLS" and a.tls == "starttls" and not tls:
                if a.fault == "starttls-inject":
                    send("220 2.0.0 Ready to start TLS\r\n250-injected.test\r\n250 AUTH PLAIN\r\n")
                elif a.fault == "starttls-inject-late":
                    # The forged reply in its own segment, once the client
                    # has had time to start its handshake.
                    send("220 2.0.0 Ready to start TLS\r\n")
                    threading.Event().wait(0.3)
                    send("250-injected.test\r\n250 AUTH PLAIN\r\n")
                else:
                    send("220 2.0.0 Ready to start TLS\r\n")
                if buf:
                    log("client sent data before the TLS handshake")
                    return
                conn = self.ctx.wrap_socket(conn, server_side=True)
                tls = True
            elif verb == "AUTH":
                parts = line.split()
                mech = parts[1].upper() if len(parts) > 1 else ""
                if mech == "PLAIN":
                    resp = parts[2] if len(parts) > 2 else None
                    if resp is None:
                        send("334 \r\n")
                        resp = readline()
                    fields = base64.b64decode(resp).split(b"\0")
                    user, pw = fields[1].decode(), fields[2].decode()
                elif mech == "LOGIN":
                    send("334 VXNlcm5hbWU6\r\n")
                    user = base64.b64decode(readline()).decode()
                    send("334 UGFzc3dvcmQ6\r\n")
                    pw = base64.b64decode(readline()).decode()
                else:
                    send("504 5.5.4 mechanism not supported\r\n")
                    continue
                if a.users.get(user) == pw:
                    send("235 2.7.0 Authentication successful\r\n")
                else:
                    send("535 5.7.8 Authentication credentials invalid\r\n")
            elif verb in ("MAIL", "RCPT", "RSET", "NOOP"):
                send("250 2.0.0 OK\r\n")
            elif verb == "DATA":
                send("354 End data with <CR><LF>.<CR><LF>\r\n")
                if a.fault == "drop-data":
                    readline()
                    log("dropping the connection mid-DATA")
                    return
                while readline() != ".":
                    pass
                send("250 2.0.0 OK\r\n")
            elif verb == "QUIT":
                send("221 2.0.0 Bye\r\n")
                return
            else:
                send("502 5.5.2 command not implemented\r\n")


def main():
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--tls", choices=["implicit", "starttls", "none"], default="starttls")
    p.add_argument("--cert")
    p.add_argument("--key")
    p.add_argument("--auth", action="append", default=[], metavar="USER:PASSWORD")
    p.add_argument("--auth-fail-reply", default=None,
                   help="reply to a refused login instead of aiosmtpd's 535 5.7.8, e.g. "
                        "'535 5.7.139 Authentication unsuccessful, basic authentication is disabled.'")
    p.add_argument("--maildir", required=True)
    p.add_argument("--ready-file", help="written once the server accepts connections")
    p.add_argument("--reject-mail", help="reply to every MAIL FROM, e.g. '553 5.7.1 not allowed'")
    p.add_argument("--reject-rcpt", help="reply to every RCPT TO")
    p.add_argument("--reject-data", help="reply after every final dot")
    p.add_argument("--tempfail-data", type=int, default=0, help="answer the first N messages 451")
    p.add_argument("--fault", default="none",
                   choices=["none", "no-starttls", "starttls-inject", "starttls-inject-late", "stall",
                            "drop-data"],
                   help="no-starttls: STARTTLS not offered (AUTH offered in plaintext when --auth); "
                        "starttls-inject(-late): bytes after the 220 to STARTTLS (same write, or 0.3 s later); stall: never greets; "
                        "drop-data: closes the connection in the middle of DATA")
    p.add_argument("--data-delay", type=float, default=0,
                   help="wait this many seconds before answering each message's final dot")
    p.add_argument("--idle-timeout", type=float, default=0,
                   help="close a connection idle this many seconds (aiosmtpd's timeout)")
    p.add_argument("--pipelining", action="store_true",
                   help="announce PIPELINING in EHLO (RFC 2920)")
    p.add_argument("--no-auth-advertise", action="store_true",
                   help="do not announce AUTH in EHLO (aiosmtpd always does otherwise)")
    p.add_argument("--no-8bitmime", action="store_true",
                   help="do not announce 8BITMIME in EHLO (a 7-bit-only upstream)")
    p.add_argument("--line-length-limit", type=int, default=1001,
                   help="longest line accepted, CRLF included (aiosmtpd's default 1001)")
    p.add_argument("--log-sessions", action="store_true",
                   help="number each connection and log its connect, commands, AUTH user, "
                        "senders and disconnect (with times) to stdout")
    args = p.parse_args()
    LoggingSMTP.log_sessions = args.log_sessions
    LoggingSMTP.line_length_limit = args.line_length_limit
    args.users = dict(u.split(":", 1) for u in args.auth)
    os.makedirs(args.maildir, exist_ok=True)

    ctx = None
    if args.tls != "none":
        ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        ctx.load_cert_chain(args.cert, args.key)
    kwargs = dict(hostname=args.host, port=args.port)
    if args.tls == "implicit":
        kwargs["ssl_context"] = ctx
    if args.fault in ("starttls-inject", "starttls-inject-late", "stall", "drop-data"):
        controller = RawServer(args, ctx)
        controller.start()
    else:
        handler = NoAuthHandler(args) if args.no_auth_advertise else Handler(args)
        controller = UpstreamController(handler, args, ctx, **kwargs)
        controller.start()
    serve_until_signal(args.ready_file)
    if isinstance(controller, RawServer):
        controller.close()
    else:
        controller.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
