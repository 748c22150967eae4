# Message rewriting: envelope sender, From:, Reply-To:, tenant headers, Received:.
