#!/usr/bin/python3
"""An OAuth2 provider and its SMTP server for the integration tests.

Two real servers in one process, sharing the tokens they issue:

* an HTTPS token endpoint (http.server + ssl, certificate from the test CA)
  that checks what a real provider checks: Microsoft-style client
  credentials with a client secret or a JWT client assertion (PS256/RS256,
  x5t#S256 of the registered certificate, aud/iss/sub/exp, signature), and
  Google-style jwt-bearer (RS256 signed by the service account's key, iss,
  sub = a delegated mailbox, scope, aud).  It counts requests, issues
  tokens of a chosen length and lifetime, and can be told (POST /admin/...)
  to revoke the client secret, forget every token, answer 429 with
  Retry-After, or change expires_in.
* an aiosmtpd SMTP server (implicit TLS) offering only XOAUTH2 or only
  OAUTHBEARER (auth_exclude_mechanism drops PLAIN and LOGIN, as Exchange
  Online does), accepting the tokens the endpoint issued and still valid.
  A refused token is answered Microsoft's way (a direct 535 5.7.3) or
  Google's (a 334 with base64 JSON, then 535 after the client's empty line).

GET /admin/stats returns counters as JSON.  Nothing secret is logged: the
log holds request counts, AUTH outcomes and line lengths only.
Run with /usr/bin/python3 (Debian's aiosmtpd and python3-cryptography).
"""
import argparse
import base64
import hashlib
import http.server
import json
import os
import secrets
import ssl
import sys
import threading
import time
import urllib.parse

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding

sys.dont_write_bytecode = True     # nothing written into the source tree (read-only under distcheck)
from serve_lib import serve_until_signal  # noqa: E402  (this script's directory)

STATE = {
    "lock": threading.Lock(),
    "tokens": {},           # token -> (expiry, subject)
    "token_requests": 0,
    "token_issued": 0,
    "token_refused": 0,
    "auth_ok": 0,
    "auth_failed": 0,
    "auth_initial": 0,      # AUTH lines that carried the initial response
    "auth_after_334": 0,    # responses sent after our 334
    "auth_longest_line": 0,
    "challenge_answers": [],
    "mechanisms": [],
    "revoked": False,
    "ratelimit_left": 0,
    "retry_after": 2,
    "expires_in": 3600,
    "last_error": None,
    "smtp_refuse": False,
    "issued": [],           # every token ever issued (the tests grep for them)
}


class Refusal(Exception):
    """An OAuth2 error answer: (HTTP status, error, error_description)."""


def log(text):
    print(text, flush=True)


def b64url_decode(s):
    return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))


def verify_jwt(jwt, public_key, algs):
    """The header and claims of jwt when its signature verifies, else raise."""
    head_b64, claims_b64, sig_b64 = jwt.split(".")
    header = json.loads(b64url_decode(head_b64))
    claims = json.loads(b64url_decode(claims_b64))
    signed = (head_b64 + "." + claims_b64).encode()
    sig = b64url_decode(sig_b64)
    if header.get("alg") not in algs:
        raise ValueError("alg %r not accepted" % header.get("alg"))
    if header["alg"] == "PS256":
        pad = padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=32)
    else:
        pad = padding.PKCS1v15()
    public_key.verify(sig, signed, pad, hashes.SHA256())
    if claims.get("exp", 0) < time.time():
        raise ValueError("assertion expired")
    return header, claims


class TokenHandler(http.server.BaseHTTPRequestHandler):
    args = None
    cert = None             # the registered client certificate (Microsoft style)
    sa = None               # the service account's JSON key (Google style)

    def log_message(self, fmt, *a):     # no request lines with bodies in them
        pass

    def reply(self, status, obj, headers=()):
        body = json.dumps(obj).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        for k, v in headers:
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        if self.path == "/admin/stats":
            with STATE["lock"]:
                s = {k: v for k, v in STATE.items() if k not in ("lock", "tokens")}
                s["tokens_live"] = len(STATE["tokens"])
            return self.reply(200, s)
        self.reply(404, {"error": "not_found"})

    def admin(self, what, q):
        with STATE["lock"]:
            if what == "revoke":
                STATE["revoked"] = True
            elif what == "unrevoke":
                STATE["revoked"] = False
            elif what == "forget":
                STATE["tokens"].clear()
            elif what == "ratelimit":
                STATE["ratelimit_left"] = int(q.get("n", ["1"])[0])
                STATE["retry_after"] = int(q.get("retry_after", ["2"])[0])
            elif what == "smtp_refuse":
                STATE["smtp_refuse"] = q.get("on", ["1"])[0] == "1"
            elif what == "expires_in":
                STATE["expires_in"] = int(q.get("n", ["3600"])[0])
            else:
                return self.reply(404, {"error": "no such admin action"})
        log("admin %s" % what)
        self.reply(200, {"ok": True})

    def refuse(self, status, error, desc):
        with STATE["lock"]:
            STATE["token_refused"] += 1
            STATE["last_error"] = error
        log("token refused %s" % error)
        self.reply(status, {"error": error, "error_description": desc, "error_codes": [0]})

    def do_POST(self):
        url = urllib.parse.urlsplit(self.path)
        n = int(self.headers.get("Content-Length", "0"))
        body = self.rfile.read(n).decode()
        if url.path.startswith("/admin/"):
            return self.admin(url.path[7:], urllib.parse.parse_qs(url.query))
        if not url.path.endswith("/token"):
            return self.reply(404, {"error": "not_found"})
        form = {k: v[0] for k, v in urllib.parse.parse_qs(body).items()}
        with STATE["lock"]:
            STATE["token_requests"] += 1
            limited = STATE["ratelimit_left"] > 0
            if limited:
                STATE["ratelimit_left"] -= 1
            retry_after = STATE["retry_after"]
        log("token request %s" % form.get("grant_type"))
        if limited:
            return self.reply(429, {"error": "temporarily_unavailable",
                                    "error_description": "AADSTS50196: request throttled"},
                              [("Retry-After", str(retry_after))])
        aud = "https://%s%s" % (self.headers.get("Host"), url.path)
        a = self.args
        try:
            subject = self.check_grant(form, aud)
        except Refusal as e:
            return self.refuse(*e.args)
        except (ValueError, KeyError, InvalidSignature) as e:
            return self.refuse(401, "invalid_client",
                               "AADSTS700027: Client assertion failed signature validation. (%s)" % type(e).__name__)
        token = secrets.token_urlsafe(a.token_length)[:a.token_length]
        with STATE["lock"]:
            expires_in = STATE["expires_in"]
            STATE["tokens"][token] = (time.time() + expires_in, subject)
            STATE["issued"].append(token)
            STATE["token_issued"] += 1
        log("token issued expires_in=%d" % expires_in)
        self.reply(200, {"token_type": "Bearer", "expires_in": expires_in, "ext_expires_in": expires_in,
                         "access_token": token})

    def check_grant(self, form, aud):
        a = self.args
        gt = form.get("grant_type")
        if gt == "client_credentials":
            if form.get("client_id") != a.client_id:
                raise Refusal(400, "unauthorized_client",
                                      "AADSTS700016: Application with identifier '%s' was not found in the "
                                      "directory 'test'." % form.get("client_id"))
            if form.get("scope") != a.scope:
                raise Refusal(400, "invalid_scope", "AADSTS70011: The provided scope is invalid.")
            if "client_secret" in form:
                if STATE["revoked"] or form["client_secret"] != a.client_secret:
                    raise Refusal(401, "invalid_client",
                                          "AADSTS7000215: Invalid client secret provided. Ensure the secret "
                                          "being sent in the request is the client secret value, not the "
                                          "client secret ID, for a secret added to app '%s'." % a.client_id)
                return None
            if form.get("client_assertion_type") != "urn:ietf:params:oauth:client-assertion-type:jwt-bearer":
                raise Refusal(400, "invalid_request", "AADSTS900144: no client credential")
            if STATE["revoked"] or self.cert is None:
                raise Refusal(401, "invalid_client",
                                      "AADSTS700027: Client assertion contains an invalid signature.")
            header, claims = verify_jwt(form["client_assertion"], self.cert.public_key(), ("PS256", "RS256"))
            thumb = base64.urlsafe_b64encode(
                hashlib.sha256(self.cert.public_bytes(serialization.Encoding.DER)).digest()).rstrip(b"=").decode()
            if header.get("x5t#S256") != thumb:
                raise ValueError("x5t#S256 does not name the registered certificate")
            if claims.get("aud") != aud or claims.get("iss") != a.client_id or claims.get("sub") != a.client_id:
                raise ValueError("aud/iss/sub")
            with STATE["lock"]:
                STATE.setdefault("assertion_algs", []).append(header["alg"])
            return None
        if gt == "urn:ietf:params:oauth:grant-type:jwt-bearer":
            if self.sa is None:
                raise Refusal(400, "unsupported_grant_type", "no service account registered")
            key = serialization.load_pem_private_key(self.sa["private_key"].encode(), None).public_key()
            header, claims = verify_jwt(form["assertion"], key, ("RS256",))
            if header.get("kid") != self.sa["private_key_id"] or claims.get("iss") != self.sa["client_email"]:
                raise ValueError("kid/iss")
            if claims.get("aud") != aud:
                raise ValueError("aud")
            if STATE["revoked"]:
                raise Refusal(401, "unauthorized_client",
                                      "Client is unauthorized to retrieve access tokens using this method, "
                                      "or client not authorized for any of the scopes requested.")
            if claims.get("scope") != "https://mail.google.com/":
                raise Refusal(400, "invalid_scope", "Invalid OAuth scope or ID token audience provided.")
            if claims.get("sub") not in a.mailbox:
                raise Refusal(400, "invalid_grant", "Invalid email or User ID")
            return claims["sub"]
        raise Refusal(400, "unsupported_grant_type", "grant_type %r" % gt)


def token_ok(user, token):
    with STATE["lock"]:
        t = STATE["tokens"].get(token)
        if t is None or t[0] < time.time():
            return False
        return t[1] is None or t[1] == user


class OAuthHandler:
    def __init__(self, args):
        self.args = args
        self.count = 0
        self.lock = threading.Lock()

    async def refuse(self, server):
        with STATE["lock"]:
            STATE["auth_failed"] += 1
        if self.args.error_style == "google":
            answer = await server.challenge_auth(json.dumps(
                {"status": "400", "schemes": "Bearer", "scope": "https://mail.google.com/"}, separators=(",", ":")))
            with STATE["lock"]:
                STATE["challenge_answers"].append(answer.decode() if isinstance(answer, bytes) else "*")
            return AuthResult(success=False, handled=False,
                              message="535-5.7.8 Username and Password not accepted. For more information, go to\r\n"
                                      "535 5.7.8  https://support.google.com/mail/?p=BadCredentials")
        return AuthResult(success=False, handled=False, message="535 5.7.3 Authentication unsuccessful")

    async def sasl(self, server, args, mech):
        line_len = len("AUTH " + " ".join(args)) + 2
        if len(args) == 1:
            data = await server.challenge_auth("")
            after = True
            if not isinstance(data, bytes):
                return AuthResult(success=False, handled=True)
            line_len = max(line_len, len(base64.b64encode(data)) + 2)
        else:
            data = base64.b64decode(args[1])
            after = False
        with STATE["lock"]:
            STATE["auth_after_334" if after else "auth_initial"] += 1
            STATE["auth_longest_line"] = max(STATE["auth_longest_line"], line_len)
            STATE["mechanisms"].append(mech)
        fields = data.decode(errors="replace").split("\x01")
        if mech == "XOAUTH2":
            user = fields[0][5:] if fields[0].startswith("user=") else None
        else:
            gs2 = fields[0].split(",")
            user = gs2[1][2:].replace("=2C", ",").replace("=3D", "=") if len(gs2) > 1 else None
        auth = [f for f in fields if f.startswith("auth=Bearer ")]
        token = auth[0][12:] if auth else ""
        log("auth %s %s initial=%s len=%d" % (mech, user, not after, line_len))
        if user in self.args.mailbox and token_ok(user, token) and not STATE["smtp_refuse"]:
            with STATE["lock"]:
                STATE["auth_ok"] += 1
            return AuthResult(success=True, handled=False, auth_data=user)
        return await self.refuse(server)

    async def auth_XOAUTH2(self, server, args):
        return await self.sasl(server, args, "XOAUTH2")

    async def auth_OAUTHBEARER(self, server, args):
        return await self.sasl(server, args, "OAUTHBEARER")

    async def handle_DATA(self, server, session, envelope):
        with self.lock:
            self.count += 1
            n = self.count
        with STATE["lock"]:
            STATE["delivered"] = STATE.get("delivered", 0) + 1
        if self.args.no_store:
            return "250 2.0.0 Ok: counted %06d" % n
        base = os.path.join(self.args.maildir, "%06d" % n)
        auth_user = session.auth_data if isinstance(session.auth_data, str) else None
        with open(base + ".eml.tmp", "wb") as f:
            f.write(envelope.original_content or envelope.content)
        with open(base + ".json.tmp", "w") as f:
            json.dump({"mail_from": envelope.mail_from, "rcpt_tos": envelope.rcpt_tos,
                       "auth_user": auth_user, "time": time.time()}, f)
        os.rename(base + ".eml.tmp", base + ".eml")
        os.rename(base + ".json.tmp", base + ".json")
        return "250 2.0.0 Ok: stored as %06d" % n


class OAuthSMTP(SMTP):
    # Long tokens: an AUTH line up to RFC 4954's 12,288 octets, and the
    # response after a 334 longer still.
    line_length_limit = 64 * 1024


class OAuthController(Controller):
    def __init__(self, handler, args, ctx, **kw):
        self.args = args
        super().__init__(handler, **kw)

    def factory(self):
        exclude = ["PLAIN", "LOGIN", "OAUTHBEARER" if self.args.mech == "XOAUTH2" else "XOAUTH2"]
        kw = {}
        if self.args.password:
            # The benchmark's peer: a password route to the same server.
            exclude = exclude[2:]
            users = dict(u.split(":", 1) for u in self.args.password)

            def authenticator(server, session, envelope, mechanism, auth_data):
                ok = getattr(auth_data, "login", None) is not None and \
                    users.get(auth_data.login.decode()) == auth_data.password.decode()
                return AuthResult(success=ok, handled=False, auth_data=auth_data.login.decode() if ok else None)
            kw["authenticator"] = authenticator
        smtp = OAuthSMTP(self.handler, hostname="upstream.test", decode_data=False,
                         auth_required=True, auth_require_tls=False,
                         auth_exclude_mechanism=exclude, **kw)
        smtp.command_size_limits["AUTH"] = 12288
        return smtp


def main():
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--smtp-port", type=int, required=True)
    p.add_argument("--https-port", type=int, required=True)
    p.add_argument("--cert", required=True)
    p.add_argument("--key", required=True)
    p.add_argument("--maildir", required=True)
    p.add_argument("--ready-file")
    p.add_argument("--client-id", default="11111111-2222-3333-4444-555555555555")
    p.add_argument("--client-secret-file", help="the registered client secret (Microsoft style)")
    p.add_argument("--client-cert", help="the registered client certificate (PEM, Microsoft style)")
    p.add_argument("--service-account", help="the service account's JSON key (Google style)")
    p.add_argument("--scope", default="https://outlook.office365.com/.default")
    p.add_argument("--mailbox", action="append", default=[], help="a mailbox tokens may send as")
    p.add_argument("--mech", choices=["XOAUTH2", "OAUTHBEARER"], default="XOAUTH2")
    p.add_argument("--error-style", choices=["microsoft", "google"], default="microsoft")
    p.add_argument("--token-length", type=int, default=1200)
    p.add_argument("--expires-in", type=int, default=3600)
    p.add_argument("--password", action="append", default=[], metavar="USER:PASSWORD",
                   help="also offer PLAIN/LOGIN for these (the benchmark's password peer)")
    p.add_argument("--no-store", action="store_true", help="count messages, do not write them")
    args = p.parse_args()
    os.makedirs(args.maildir, exist_ok=True)
    STATE["expires_in"] = args.expires_in
    args.client_secret = open(args.client_secret_file).read().strip() if args.client_secret_file else None
    TokenHandler.args = args
    if args.client_cert:
        TokenHandler.cert = x509.load_pem_x509_certificate(open(args.client_cert, "rb").read())
    if args.service_account:
        TokenHandler.sa = json.load(open(args.service_account))

    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ctx.load_cert_chain(args.cert, args.key)
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", args.https_port), TokenHandler)
    httpd.socket = ctx.wrap_socket(httpd.socket, server_side=True)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()

    controller = OAuthController(OAuthHandler(args), args, ctx, hostname="127.0.0.1", port=args.smtp_port,
                                 ssl_context=ctx)
    controller.start()
    serve_until_signal(args.ready_file)
    controller.stop()
    httpd.shutdown()
    return 0


if __name__ == "__main__":
    sys.exit(main())
