/*
 * smtpc_send.c - a test tool: send one message file through the SMTP
 * client (src/smtpc) and print the structured result of every step as one
 * JSON line each.  Exit 0 when every step succeeded, 1 otherwise, 64 on a
 * usage error.
 *
 *   smtpc_send --host H --port P --tls implicit|starttls|none
 *       [--insecure-plaintext] [--ca-file F] [--no-verify] [--bind ADDR]
 *       [--user U (--password-file F | --password-stdin)] [--mech auto|plain|login]
 *       --from S --to R [--to R]... (--message FILE | --message-fd FILE)
 *       [--8bit] [--smtputf8] [--helo NAME] [--connect-timeout MS]
 *       [--timeout MS] [--data-timeout MS] [--rset]
 *
 * The password is read into sodium_malloc memory, never printed, and
 * wiped right after AUTH.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>
#include <sodium.h>

#include "tenantrelay/mymalloc.h"
#include "tenantrelay/smtpc.h"

#define SECRET_MAX 4096
#define MAX_RCPTS 100

/* Run one step, print its line, stop at the first failure. */
#define STEP(name, call) \
    do { \
        int step_rc_ = (call); \
        if (report((name), &res) < 0 || step_rc_ < 0) \
            goto done; \
    } while (0)

static void print_json(json_t *o)
{
    char *text = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);

    if (text) {
        puts(text);
        free(text);
    }
    fflush(stdout);
    json_decref(o);
}

static json_t *result_json(const char *step, const struct smtpc_result *res)
{
    json_t *o = json_object();

    json_object_set_new(o, "step", json_string(step));
    json_object_set_new(o, "ok", json_boolean(res->err == SMTPC_OK));
    json_object_set_new(o, "err", json_string(smtpc_err_name(res->err)));
    json_object_set_new(o, "stage", json_string(res->stage ? res->stage : ""));
    json_object_set_new(o, "ms", json_integer(res->ms));
    json_object_set_new(o, "code", json_integer(res->reply.code));
    json_object_set_new(o, "enhanced", json_string(res->reply.enhanced));
    json_object_set_new(o, "reply", json_string(res->reply.text));
    json_object_set_new(o, "errstr", json_string(res->err == SMTPC_OK ? "" : res->errstr));
    return o;
}

static int report(const char *step, const struct smtpc_result *res)
{
    print_json(result_json(step, res));
    return res->err == SMTPC_OK ? 0 : -1;
}

/* The secret from fd into sodium memory, without its final newline. */
static unsigned char *read_secret(int fd, size_t *len)
{
    unsigned char *buf = sodium_malloc(SECRET_MAX);
    size_t n = 0;

    if (buf == NULL)
        return NULL;
    while (n < SECRET_MAX) {
        ssize_t r = read(fd, buf + n, SECRET_MAX - n);

        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            sodium_free(buf);
            return NULL;
        }
        if (r == 0)
            break;
        n += (size_t)r;
    }
    while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
        n--;
    *len = n;
    return buf;
}

static char *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    char *buf = NULL;
    long n;

    if (f == NULL)
        return NULL;
    if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) >= 0 && fseek(f, 0, SEEK_SET) == 0) {
        buf = mymalloc((size_t)n + 1);
        if (fread(buf, 1, (size_t)n, f) != (size_t)n) {
            myfree(buf);
            buf = NULL;
        } else {
            *len = (size_t)n;
        }
    }
    fclose(f);
    return buf;
}

static bool is_8bit(const char *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)p[i] >= 0x80)
            return true;
    return false;
}

static void usage(void)
{
    fprintf(stderr, "usage: smtpc_send --host H --port P --tls implicit|starttls|none "
            "[--insecure-plaintext] [--ca-file F] [--no-verify] [--bind A] "
            "[--user U (--password-file F|--password-stdin)] [--mech auto|plain|login] "
            "--from S --to R... (--message F|--message-fd F) [--8bit] [--smtputf8] "
            "[--helo N] [--connect-timeout MS] [--timeout MS] [--data-timeout MS] [--rset]\n");
    exit(64);
}

int main(int argc, char **argv)
{
    static const struct option longopts[] = {
        { "host", required_argument, NULL, 'h' },
        { "port", required_argument, NULL, 'p' },
        { "tls", required_argument, NULL, 't' },
        { "insecure-plaintext", no_argument, NULL, 'I' },
        { "ca-file", required_argument, NULL, 'C' },
        { "no-verify", no_argument, NULL, 'V' },
        { "bind", required_argument, NULL, 'b' },
        { "user", required_argument, NULL, 'u' },
        { "password-file", required_argument, NULL, 'P' },
        { "password-stdin", no_argument, NULL, 'S' },
        { "mech", required_argument, NULL, 'm' },
        { "from", required_argument, NULL, 'f' },
        { "to", required_argument, NULL, 'r' },
        { "message", required_argument, NULL, 'M' },
        { "message-fd", required_argument, NULL, 'F' },
        { "8bit", no_argument, NULL, '8' },
        { "smtputf8", no_argument, NULL, 'U' },
        { "helo", required_argument, NULL, 'H' },
        { "connect-timeout", required_argument, NULL, 'c' },
        { "timeout", required_argument, NULL, 'T' },
        { "data-timeout", required_argument, NULL, 'D' },
        { "rset", no_argument, NULL, 'R' },
        { NULL, 0, NULL, 0 },
    };
    struct smtpc_options o;
    struct smtpc_envelope env;
    struct smtpc_cred cred;
    struct smtpc_result res;
    struct smtpc_rcpt_result rr[MAX_RCPTS];
    struct smtpc_session *s = NULL;
    struct smtpc_source src;
    const char *rcpts[MAX_RCPTS];
    const char *user = NULL, *password_file = NULL, *message = NULL;
    bool password_stdin = false, message_fd = false, want_8bit = false, do_rset = false;
    unsigned char *secret = NULL;
    size_t secret_len = 0, msg_len = 0, i;
    char *msg = NULL;
    int c, status = 1, fd = -1, tls_rc;
    json_t *o_tls;
    const struct tls_info *ti;

    signal(SIGPIPE, SIG_IGN);
    if (sodium_init() < 0)
        return 70;
    memset(&o, 0, sizeof(o));
    memset(&env, 0, sizeof(env));
    memset(&cred, 0, sizeof(cred));
    o.tls = ROUTE_TLS_STARTTLS;
    o.tls_verify = true;
    o.helo_name = "client.test";
    env.rcpts = rcpts;
    while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
        switch (c) {
        case 'h': o.host = optarg; break;
        case 'p': o.port = atoi(optarg); break;
        case 't':
            if (strcmp(optarg, "implicit") == 0)
                o.tls = ROUTE_TLS_IMPLICIT;
            else if (strcmp(optarg, "starttls") == 0)
                o.tls = ROUTE_TLS_STARTTLS;
            else if (strcmp(optarg, "none") == 0)
                o.tls = ROUTE_TLS_NONE;
            else
                usage();
            break;
        case 'I': o.insecure_plaintext = true; break;
        case 'C': o.ca_file = optarg; break;
        case 'V': o.tls_verify = false; break;
        case 'b': o.bind_address = optarg; break;
        case 'u': user = optarg; break;
        case 'P': password_file = optarg; break;
        case 'S': password_stdin = true; break;
        case 'm':
            if (strcasecmp(optarg, "plain") == 0)
                cred.mech = SMTPC_AUTH_PLAIN;
            else if (strcasecmp(optarg, "login") == 0)
                cred.mech = SMTPC_AUTH_LOGIN;
            else if (strcasecmp(optarg, "auto") == 0)
                cred.mech = SMTPC_AUTH_AUTO;
            else
                usage();
            break;
        case 'f': env.sender = optarg; break;
        case 'r':
            if (env.nrcpts >= MAX_RCPTS)
                usage();
            rcpts[env.nrcpts++] = optarg;
            break;
        case 'M': message = optarg; message_fd = false; break;
        case 'F': message = optarg; message_fd = true; break;
        case '8': want_8bit = true; break;
        case 'U': env.smtputf8 = true; break;
        case 'H': o.helo_name = optarg; break;
        case 'c': o.connect_timeout_ms = atoi(optarg); break;
        case 'T': o.command_timeout_ms = atoi(optarg); break;
        case 'D': o.data_timeout_ms = atoi(optarg); break;
        case 'R': do_rset = true; break;
        default: usage();
        }
    }
    if (o.host == NULL || o.port <= 0 || env.sender == NULL || env.nrcpts == 0 || message == NULL
        || (user && !password_file && !password_stdin))
        usage();
    if (user) {
        int pfd = password_stdin ? 0 : open(password_file, O_RDONLY | O_CLOEXEC);

        secret = pfd >= 0 ? read_secret(pfd, &secret_len) : NULL;
        if (pfd > 0)
            close(pfd);
        if (secret == NULL) {
            fprintf(stderr, "smtpc_send: cannot read the password\n");
            return 66;
        }
        cred.kind = SMTPC_CRED_PASSWORD;
        cred.username = user;
        cred.secret = secret;
        cred.secret_len = secret_len;
    }
    msg = read_file(message, &msg_len);
    if (msg == NULL) {
        fprintf(stderr, "smtpc_send: cannot read %s\n", message);
        goto done;
    }
    env.body_8bit = want_8bit || is_8bit(msg, msg_len);
    env.size = msg_len;
    if (message_fd) {
        fd = open(message, O_RDONLY | O_CLOEXEC);
        if (fd < 0) {
            fprintf(stderr, "smtpc_send: cannot open %s\n", message);
            goto done;
        }
        src.buf = NULL;
        src.len = 0;
        src.fd = fd;
    } else {
        src.buf = msg;
        src.len = msg_len;
        src.fd = -1;
    }

    s = smtpc_session_new(&o, &res);
    if (s == NULL) {
        report("session", &res);
        goto done;
    }
    STEP("dns", smtpc_resolve(s, &res));
    STEP("connect", smtpc_connect(s, &res));
    tls_rc = smtpc_tls(s, &res);
    o_tls = result_json("tls", &res);
    ti = smtpc_tls_info(s);
    if (ti) {
        json_object_set_new(o_tls, "version", json_string(ti->version));
        json_object_set_new(o_tls, "cipher", json_string(ti->cipher));
        json_object_set_new(o_tls, "subject", json_string(ti->subject));
        json_object_set_new(o_tls, "issuer", json_string(ti->issuer));
        json_object_set_new(o_tls, "not_after", json_string(ti->not_after));
        json_object_set_new(o_tls, "verified", json_boolean(ti->verified));
        json_object_set_new(o_tls, "verify_error", json_string(ti->verify_error));
    }
    print_json(o_tls);
    if (tls_rc < 0)
        goto done;
    STEP("ehlo", smtpc_ehlo(s, &res));
    if (user) {
        int rc = smtpc_auth(s, &cred, &res);
        json_t *a = result_json("auth", &res);

        /* The secret is no longer needed: wipe it now, not at exit. */
        sodium_memzero(secret, SECRET_MAX);
        json_object_set_new(a, "mech", json_string(rc == 0 ? smtpc_auth_used(s) : ""));
        print_json(a);
        if (rc < 0)
            goto done;
    }
    {
        int rc = smtpc_envelope(s, &env, rr, &res);

        report("mail", &res);
        for (i = 0; i < env.nrcpts; i++) {
            json_t *r = json_object();

            json_object_set_new(r, "step", json_string("rcpt"));
            json_object_set_new(r, "rcpt", json_string(rcpts[i]));
            json_object_set_new(r, "ok", json_boolean(rr[i].err == SMTPC_OK));
            json_object_set_new(r, "err", json_string(smtpc_err_name(rr[i].err)));
            json_object_set_new(r, "code", json_integer(rr[i].reply.code));
            json_object_set_new(r, "enhanced", json_string(rr[i].reply.enhanced));
            json_object_set_new(r, "reply", json_string(rr[i].reply.text));
            print_json(r);
        }
        if (rc < 0)
            goto done;
    }
    STEP("data", smtpc_data(s, &src, 1, &res));
    if (do_rset)
        STEP("rset", smtpc_rset(s, &res));
    STEP("quit", smtpc_quit(s, &res));
    status = 0;
done:
    smtpc_session_free(s);
    if (secret) {
        sodium_memzero(secret, SECRET_MAX);
        sodium_free(secret);
    }
    if (fd >= 0)
        close(fd);
    myfree(msg);
    return status;
}
