/*
 * ctl_route_flags.h - the route flags `tenant set` and `test --host` share
 * (--host --port --tls --username --password-stdin --password-file
 * --sender --to --ca-file --no-tls-verify --tls-verify
 * --insecure-plaintext, the OAuth2 flags --auth --oauth-*, and the refusal
 * of --password / --oauth-secret on argv), parsed in
 * one place so that both commands take them, and word their errors, alike.
 * Private to src/ctl.
 *
 * A command's option loop gives each option to ctl_route_flags_parse()
 * after its own flags WITHOUT a value and before its own flags WITH one:
 * that keeps one order for every command: flags without a value, then the
 * --password refusal, then "OPTION needs a value" (for any option, the
 * command's own and unknown ones included), then flags with a value.
 *
 * Every string a struct ctl_route_flags holds points into argv (owned by
 * the caller; nothing here allocates).
 */
#ifndef TENANTRELAY_CTL_ROUTE_FLAGS_H
#define TENANTRELAY_CTL_ROUTE_FLAGS_H

#include <stdbool.h>

/* Flags only some commands take (the accept mask). */
#define CTL_ROUTE_FLAG_TLS_VERIFY 0x1u  /* --tls-verify (tenant set: undoes --no-tls-verify) */

/* --tls auto (test only): the probe's own mode, after enum route_tls's. */
#define CTL_ROUTE_TLS_AUTO 3

struct ctl_route_flags {
    const char *host, *tls, *username, *password_file, *sender, *to, *ca_file;
    bool password_stdin, insecure_plaintext;
    /* OAuth2 (SPEC §6): --auth, --oauth-* (checked by ctl_oauth_flags_check()). */
    const char *auth, *oauth_provider, *oauth_directory, *oauth_token_url, *oauth_client_id,
        *oauth_secret_file, *oauth_key_file, *oauth_cert_file, *oauth_scope, *oauth_assertion_alg;
    bool oauth_secret_stdin;
    int tls_verify;             /* -1 not given, 0 --no-tls-verify, 1 --tls-verify */
    long port;                  /* -1 not given, else 1..65535 */
};

enum ctl_route_flag_result {
    CTL_ROUTE_FLAG_OTHER,       /* not a route flag: the caller's (its value, if any, exists) */
    CTL_ROUTE_FLAG_TAKEN,       /* stored; *i is on the last argument it used */
    CTL_ROUTE_FLAG_ERROR,       /* printed why; *status is the exit status */
};

/* Nothing given. */
void ctl_route_flags_init(struct ctl_route_flags *f);

/* Look at argv[*i] (0 <= *i < argc).  accept: CTL_ROUTE_FLAG_* the command
 * takes besides the common ones (one it does not take is CTL_ROUTE_FLAG_OTHER).
 * usage follows "OPTION needs a value". */
enum ctl_route_flag_result ctl_route_flags_parse(struct ctl_route_flags *f, unsigned accept, int argc,
                                                 char **argv, int *i, const char *usage, int *status);

/* 0, or EX_USAGE after saying that --password-stdin and --password-file
 * are exclusive. */
int ctl_route_flags_check_password(const struct ctl_route_flags *f);

/* The --tls value s as an enum route_tls (or CTL_ROUTE_TLS_AUTO for "auto"
 * when allow_auto): 0 with *mode set, or EX_USAGE after saying which
 * values --tls takes. */
int ctl_route_flags_tls(const char *s, bool allow_auto, int *mode);

/* A decimal integer in min..max, the whole string: 0, or -1. */
int ctl_parse_long(const char *s, long min, long max, long *out);

#endif
