# Message rewriting: envelope sender, From:, Reply-To:, tenant headers, Received:.
noinst_HEADERS += include/tenantrelay/rewrite.h
