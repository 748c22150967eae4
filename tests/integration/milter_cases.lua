-- milter_cases.lua - tenantrelay-milter's behaviour through miltertest (the
-- MTA side of the protocol), against the real milter binary started by
-- test_milter_miltertest.sh.  Run as
--   miltertest -D sock=inet:PORT@127.0.0.1 -D phase=NAME -D dir=DIR -s milter_cases.lua
-- Every check prints "PASS what" or "FAIL what"; the shell test counts them.
-- Phases follow the milter's unknown_tenant setting: "main" (default),
-- "reject", "tempfail", "inflight" (a message pinned before a reload), and
-- "acme" (one message of acme's, -D label=TEXT).

local function check(cond, what)
    if cond then
        mt.echo("PASS " .. what)
    else
        mt.echo("FAIL " .. what)
    end
end

-- One message: t.ip (client), t.auth ({auth_authen}), t.from, t.headers
-- ({ {name, value}, ... }); t.pause(conn) runs after MAIL FROM; t.mta is the
-- MTA's macro v at connect (default Postfix's: the milter inserts Reply-To:
-- at an exact position only in Postfix).  Returns the connection after end
-- of message.
-- t.conn: a further message on that connection.
local function message(t)
    local conn = t.conn
    if conn == nil then
        conn = mt.connect(sock, 40, 0.25)
        if conn == nil then
            error("cannot connect to " .. sock)
        end
        assert(mt.macro(conn, SMFIC_CONNECT, "v", t.mta or "Postfix 3.7.11") == nil)
        assert(mt.conninfo(conn, "client.test", t.ip or "127.0.0.1") == nil)
        -- HELO first: libmilter clears the MAIL macros when HELO arrives.
        assert(mt.helo(conn, "app.test") == nil)
    end
    if t.auth then
        assert(mt.macro(conn, SMFIC_MAIL, "i", t.qid or "QID", "{auth_authen}", t.auth) == nil)
    else
        assert(mt.macro(conn, SMFIC_MAIL, "i", t.qid or "QID") == nil)
    end
    assert(mt.mailfrom(conn, t.from) == nil)
    if t.abort then
        return conn
    end
    if t.pause then
        t.pause(conn)
    end
    assert(mt.rcptto(conn, "<user@example.test>") == nil)
    for _, h in ipairs(t.headers or {}) do
        assert(mt.header(conn, h[1], h[2]) == nil)
    end
    assert(mt.eoh(conn) == nil)
    assert(mt.eom(conn) == nil)
    return conn
end

local function accepted(conn)
    return mt.getreply(conn) == SMFIR_CONTINUE or mt.getreply(conn) == SMFIR_ACCEPT
end

-- A refusal with the milter's own reply text.  (miltertest 2.11 stops the
-- script on eom_check(MT_SMTPREPLY, ...): the code and text are asserted
-- from the milter's log by the shell test instead.)
local function refused(conn)
    return mt.getreply(conn) == SMFIR_REPLYCODE
end

local conn

if phase == "main" then
    mt.echo("# negotiation")
    conn = mt.connect(sock, 40, 0.25)
    assert(conn ~= nil)
    assert(mt.negotiate(conn, nil, nil, nil) == nil)
    check(mt.test_action(conn, SMFIF_CHGFROM), "negotiation: asks to change the envelope sender")
    check(mt.test_action(conn, SMFIF_CHGHDRS), "negotiation: asks to change headers")
    check(mt.test_action(conn, SMFIF_ADDHDRS), "negotiation: asks to add headers")
    check(mt.test_option(conn, SMFIP_NOBODY), "negotiation: does not want the body")
    mt.disconnect(conn)

    mt.echo("# default route")
    conn = message({ qid = "DEFAULT1", from = "<app@platform.test>",
        headers = { { "From", "\"Ops, Team\" <ops@platform.test>" }, { "To", "user@example.test" },
                    { "Subject", "default" } } })
    check(accepted(conn), "default route: accepted")
    check(mt.eom_check(conn, MT_HDRCHANGE, "From", "\"Ops, Team\" <notifications@platform.test>"),
        "default route: From: rewritten to the default sender, display name kept")
    check(mt.eom_check(conn, MT_HDRINSERT, "Reply-To", "\"Ops, Team\" <ops@platform.test>"),
        "default route: original author in Reply-To:")
    check(not mt.eom_check(conn, MT_HDRADD, "X-Tenant-ID"), "default route: no tenant stamp")
    check(not mt.eom_check(conn, MT_HDRDELETE), "default route: nothing deleted")
    mt.disconnect(conn)

    mt.echo("# default route from Sendmail (v is its version): Reply-To: added at the end")
    conn = message({ qid = "SENDMAIL1", mta = "8.17.1.9", from = "<app@platform.test>",
        headers = { { "From", "\"Ops, Team\" <ops@platform.test>" }, { "To", "user@example.test" } } })
    check(accepted(conn), "Sendmail: accepted")
    check(mt.eom_check(conn, MT_HDRADD, "Reply-To", "\"Ops, Team\" <ops@platform.test>"),
        "Sendmail: Reply-To: added (its insert positions count hidden default fields)")
    check(not mt.eom_check(conn, MT_HDRINSERT), "Sendmail: nothing inserted by position")
    check(mt.eom_check(conn, MT_HDRCHANGE, "From", "\"Ops, Team\" <notifications@platform.test>"),
        "Sendmail: From: changed in place")
    mt.disconnect(conn)

    mt.echo("# tenant by sender domain (untrusted client)")
    conn = message({ qid = "SENDER1", ip = "192.0.2.10", from = "<app@acme.test>",
        headers = { { "From", "App <app@acme.test>" }, { "Reply-To", "desk@acme.test" } } })
    check(accepted(conn), "sender domain: accepted")
    check(mt.eom_check(conn, MT_HDRADD, "X-Tenant-ID", "acme"), "sender domain: acme stamped")
    check(mt.eom_check(conn, MT_HDRCHANGE, "From", "App <mailer@acme.test>"),
        "sender domain: From: rewritten to acme's sender")
    check(not mt.eom_check(conn, MT_HDRINSERT, "Reply-To"), "sender domain: existing Reply-To: kept, none added")
    mt.disconnect(conn)

    mt.echo("# tenant header from a trusted client")
    conn = message({ qid = "HEADER1", from = "<app@platform.test>",
        headers = { { "X-Tenant-ID", "acme" }, { "From", "app@platform.test" } } })
    check(accepted(conn), "trusted header: accepted")
    check(mt.eom_check(conn, MT_HDRDELETE, "X-Tenant-ID"), "trusted header: the client's header deleted")
    check(mt.eom_check(conn, MT_HDRADD, "X-Tenant-ID", "acme"), "trusted header: acme stamped")
    check(mt.eom_check(conn, MT_HDRCHANGE, "From", "mailer@acme.test"), "trusted header: From: rewritten")
    mt.disconnect(conn)

    mt.echo("# tenant header from an untrusted client")
    conn = message({ qid = "UNTRUSTED1", ip = "192.0.2.10", from = "<app@platform.test>",
        headers = { { "X-Tenant-ID", "acme" }, { "From", "app@platform.test" } } })
    check(accepted(conn), "untrusted header: accepted")
    check(mt.eom_check(conn, MT_HDRDELETE, "X-Tenant-ID"), "untrusted header: removed")
    check(not mt.eom_check(conn, MT_HDRADD, "X-Tenant-ID"), "untrusted header: ignored (no stamp)")
    check(mt.eom_check(conn, MT_HDRCHANGE, "From", "notifications@platform.test"),
        "untrusted header: default route's sender")
    mt.disconnect(conn)

    mt.echo("# {auth_authen}")
    conn = message({ qid = "AUTH1", ip = "192.0.2.10", auth = "someone", from = "<app@platform.test>",
        headers = { { "X-Tenant-ID", "zed" }, { "From", "app@platform.test" } } })
    check(accepted(conn), "authenticated client: accepted")
    check(mt.eom_check(conn, MT_HDRADD, "X-Tenant-ID", "zed"), "authenticated client: its tenant header trusted")
    mt.disconnect(conn)
    conn = message({ qid = "AUTH2", ip = "192.0.2.10", auth = "zed", from = "<app@platform.test>",
        headers = { { "From", "app@platform.test" } } })
    check(mt.eom_check(conn, MT_HDRADD, "X-Tenant-ID", "zed"), "auth source: {auth_authen} names the tenant")
    check(mt.eom_check(conn, MT_HDRCHANGE, "From", "n@zed.test"), "auth source: From: rewritten to zed's sender")
    mt.disconnect(conn)

    mt.echo("# conflicting tenant headers")
    conn = message({ qid = "CONFLICT1", from = "<app@platform.test>",
        headers = { { "X-Tenant-ID", "acme" }, { "From", "app@platform.test" }, { "X-Tenant-ID", "zed" } } })
    check(refused(conn), "conflicting headers: refused with the milter's reply")
    check(not mt.eom_check(conn, MT_HDRADD), "conflicting headers: nothing stamped")
    mt.disconnect(conn)

    mt.echo("# every copy of the tenant header")
    conn = message({ qid = "COPIES1", from = "<app@acme.test>",
        headers = { { "X-Tenant-ID", "acme" }, { "From", "app@acme.test" }, { "x-tenant-id", "acme" },
                    { "Subject", "copies" }, { "X-TENANT-ID", " acme " } } })
    check(accepted(conn), "three copies: accepted")
    check(mt.eom_check(conn, MT_HDRDELETE, "X-Tenant-ID"), "three copies: deleted")
    check(mt.eom_check(conn, MT_HDRADD, "X-Tenant-ID", "acme"), "three copies: one stamp")
    mt.disconnect(conn)

    mt.echo("# unknown and disabled tenants, unknown_tenant = default")
    conn = message({ qid = "UNKNOWN1", from = "<app@platform.test>",
        headers = { { "X-Tenant-ID", "nope" }, { "From", "app@platform.test" } } })
    check(accepted(conn), "unknown tenant (default): accepted")
    check(not mt.eom_check(conn, MT_HDRADD, "X-Tenant-ID"), "unknown tenant (default): no stamp")
    check(mt.eom_check(conn, MT_HDRCHANGE, "From", "notifications@platform.test"),
        "unknown tenant (default): default route's sender")
    mt.disconnect(conn)
    conn = message({ qid = "DISABLED1", from = "<app@beta.test>", headers = { { "From", "app@beta.test" } } })
    check(accepted(conn) and not mt.eom_check(conn, MT_HDRADD, "X-Tenant-ID"),
        "disabled tenant (default): default route")
    mt.disconnect(conn)

    mt.echo("# several messages on one connection, one aborted")
    conn = message({ qid = "FIRST1", from = "<app@acme.test>", headers = { { "From", "app@acme.test" } } })
    check(mt.eom_check(conn, MT_HDRADD, "X-Tenant-ID", "acme"), "first message: acme")
    conn = message({ conn = conn, qid = "ABORTED1", from = "<app@acme.test>", abort = true })
    assert(mt.header(conn, "X-Tenant-ID", "zed") == nil)
    assert(mt.abort(conn) == nil)
    conn = message({ conn = conn, qid = "SECOND1", from = "<app@platform.test>",
        headers = { { "From", "app@platform.test" } } })
    check(accepted(conn), "after an abort: accepted")
    check(not mt.eom_check(conn, MT_HDRADD, "X-Tenant-ID"), "after an abort: nothing inherited (default route)")
    check(mt.eom_check(conn, MT_HDRCHANGE, "From", "notifications@platform.test"),
        "after an abort: the default route's sender")
    mt.disconnect(conn)

    mt.echo("# a header section over 1 MiB")
    local big = {}
    for k = 1, 1100 do
        big[k] = { "X-Filler", string.rep("x", 1000) }
    end
    conn = message({ qid = "BIG1", from = "<app@acme.test>", headers = big })
    check(refused(conn), "header section over 1 MiB: refused with the milter's reply")
    mt.disconnect(conn)

    mt.echo("# two From: headers")
    conn = message({ qid = "TWOFROM1", from = "<app@acme.test>",
        headers = { { "From", "a@acme.test" }, { "From", "b@acme.test" } } })
    check(refused(conn), "two From: headers: refused with the milter's reply")
    mt.disconnect(conn)
elseif phase == "acme" then
    -- One message of acme's by its sender domain; label names the context.
    conn = message({ qid = "ACME-" .. label, from = "<app@acme.test>", headers = { { "From", "app@acme.test" } } })
    check(mt.eom_check(conn, MT_HDRADD, "X-Tenant-ID", "acme"), label .. ": acme stamped")
    mt.disconnect(conn)
elseif phase == "reject" then
    conn = message({ qid = "UNKNOWN2", from = "<app@platform.test>",
        headers = { { "X-Tenant-ID", "nope" }, { "From", "app@platform.test" } } })
    check(refused(conn), "unknown tenant (reject): refused with the milter's reply")
    check(not mt.eom_check(conn, MT_HDRCHANGE), "unknown tenant (reject): nothing rewritten")
    mt.disconnect(conn)
    conn = message({ qid = "DISABLED2", from = "<app@beta.test>", headers = { { "From", "app@beta.test" } } })
    check(refused(conn), "disabled tenant (reject): refused with the milter's reply")
    mt.disconnect(conn)
    conn = message({ qid = "KNOWN2", from = "<app@acme.test>", headers = { { "From", "app@acme.test" } } })
    check(accepted(conn) and mt.eom_check(conn, MT_HDRADD, "X-Tenant-ID", "acme"),
        "known tenant (reject mode): still accepted")
    mt.disconnect(conn)
elseif phase == "tempfail" then
    conn = message({ qid = "UNKNOWN3", from = "<app@platform.test>",
        headers = { { "X-Tenant-ID", "nope" }, { "From", "app@platform.test" } } })
    check(refused(conn), "unknown tenant (tempfail): refused with the milter's reply")
    mt.disconnect(conn)
elseif phase == "inflight" then
    -- MAIL FROM under unknown_tenant = tempfail; the shell switches the
    -- file to reject and reloads before this message ends.
    conn = message({ qid = "INFLIGHT1", from = "<app@platform.test>",
        headers = { { "X-Tenant-ID", "nope" } },
        pause = function(c)
            local f = io.open(dir .. "/pinned", "w")
            f:write("pinned\n")
            f:close()
            for _ = 1, 300 do
                local g = io.open(dir .. "/reloaded", "r")
                if g then
                    g:close()
                    return
                end
                mt.sleep(0.1)
            end
            error("no reload within 30 s")
        end })
    check(refused(conn), "in-flight message keeps its snapshot (tempfail)")
    mt.disconnect(conn)
    conn = message({ qid = "AFTER1", from = "<app@platform.test>", headers = { { "X-Tenant-ID", "nope" } } })
    check(refused(conn), "the next message uses the reloaded configuration (reject)")
    mt.disconnect(conn)
else
    error("unknown phase " .. tostring(phase))
end
mt.echo("DONE")
