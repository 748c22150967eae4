/*
 * tenantrelay reference SMTP settings page: save the form through
 * PUT /v1/tenants/{id} (streamed as NDJSON so each probe step shows as it
 * happens), show the failure's hint, and the tenant's status from
 * GET /v1/status.  The API token lives in sessionStorage (this tab only);
 * the password is sent once and cleared from the form.
 */
(function () {
  "use strict";

  var TOKEN_KEY = "tenantrelay.apiToken";
  var $ = function (id) { return document.getElementById(id); };
  var STEP_LABELS = {
    dns: "DNS", connect: "Connect", tls: "TLS", certificate: "Certificate", ehlo: "EHLO",
    auth: "Login", mail: "Sender", rcpt: "Recipient", data: "Data", message: "Test email", quit: "Quit",
    token: "Token"
  };

  function token() { return $("token").value.trim(); }

  function showFormError(text) {
    var e = $("form-error");
    e.textContent = text;
    e.hidden = !text;
  }

  function stepItem(s) {
    var li = document.createElement("li");
    var name = document.createElement("span");
    var mark = document.createElement("span");
    var skipped = s.detail && s.detail.skipped;
    li.className = s.ok ? (skipped ? "step-skipped" : "step-ok") : "step-failed";
    li.dataset.step = s.step;
    name.className = "step-name";
    name.textContent = STEP_LABELS[s.step] || s.step;
    mark.textContent = s.ok ? (skipped ? " skipped" : " ✓ passed") : " ✗ failed";
    li.appendChild(name);
    li.appendChild(mark);
    if (!skipped) {
      var ms = document.createElement("span");
      ms.className = "ms";
      ms.textContent = s.ms + " ms";
      li.appendChild(ms);
    }
    if (s.reply) {
      var r = document.createElement("span");
      r.className = "reply";
      r.textContent = s.reply;
      li.appendChild(r);
    }
    return li;
  }

  function showResult(status, res) {
    var verdict = $("verdict");
    $("failure").hidden = true;
    if (status === 200) {
      verdict.textContent = res.saved ? "The test passed: settings saved." : "The test passed: nothing changed.";
      verdict.className = "step-ok";
    } else if (status === 422) {
      verdict.textContent = "The test failed: nothing was saved.";
      verdict.className = "step-failed";
      $("failure-code").textContent = (res.step ? res.step + " – " : "") + (res.probe ? res.probe.code : res.error);
      $("hint").textContent = res.hint || (res.probe && res.probe.hint) || res.detail || "";
      $("failure").hidden = false;
    } else {
      verdict.textContent = "Not saved: " + (res.detail || res.error || ("HTTP " + status));
      verdict.className = "step-failed";
    }
    // Steps the stream did not show (the plain JSON answer) are drawn now.
    if (res.probe && $("steps").children.length === 0) {
      res.probe.steps.forEach(function (s) { $("steps").appendChild(stepItem(s)); });
    }
  }

  function headers(extra) {
    var h = { "Authorization": "Bearer " + token() };
    for (var k in extra) { h[k] = extra[k]; }
    return h;
  }

  // Read an NDJSON stream line by line, calling each(obj).
  function readLines(response, each) {
    var reader = response.body.getReader();
    var decoder = new TextDecoder();
    var buf = "";
    function pump() {
      return reader.read().then(function (chunk) {
        if (chunk.done) {
          if (buf.trim()) { each(JSON.parse(buf)); }
          return;
        }
        buf += decoder.decode(chunk.value, { stream: true });
        var nl;
        while ((nl = buf.indexOf("\n")) >= 0) {
          var line = buf.slice(0, nl);
          buf = buf.slice(nl + 1);
          if (line.trim()) { each(JSON.parse(line)); }
        }
        return pump();
      });
    }
    return pump();
  }

  function save(ev) {
    ev.preventDefault();
    showFormError("");
    var form = $("smtp-form");
    if (!token()) { showFormError("Paste an API token first."); $("token").focus(); return; }
    if (!form.checkValidity()) {
      var bad = form.querySelector(":invalid");
      showFormError("Check the field “" + (bad.labels && bad.labels[0] ? bad.labels[0].textContent : bad.name) + "”.");
      bad.focus();
      return;
    }
    var id = $("tenant").value.trim();
    var body = {
      host: $("host").value.trim(),
      port: parseInt($("port").value, 10) || 25,
      sender: $("sender").value.trim()
    };
    if ($("username").value.trim()) { body.username = $("username").value.trim(); }
    if ($("password").value) { body.password = $("password").value; }

    $("steps").textContent = "";
    $("result").hidden = false;
    $("verdict").textContent = "Testing the connection…";
    $("verdict").className = "step-pending";
    $("failure").hidden = true;
    $("save").disabled = true;
    fetch("/v1/tenants/" + encodeURIComponent(id), {
      method: "PUT",
      headers: headers({ "Content-Type": "application/json", "Accept": "application/x-ndjson" }),
      body: JSON.stringify(body),
      cache: "no-store"
    }).then(function (response) {
      var type = response.headers.get("Content-Type") || "";
      if (type.indexOf("application/x-ndjson") === 0) {
        var final = null;
        return readLines(response, function (o) {
          if (o.event === "step") { $("steps").appendChild(stepItem(o.step)); }
          else if (o.event === "result") { final = o; }
        }).then(function () {
          if (final) { showResult(final.status, final.result); }
          else { showResult(500, { detail: "the answer ended early" }); }
        });
      }
      return response.json().then(function (res) { showResult(response.status, res); });
    }).catch(function (e) {
      showResult(0, { detail: "cannot reach the relay (" + e.message + ")" });
    }).then(function () {
      $("password").value = "";     // sent once, never kept
      $("save").disabled = false;
      loadStatus();
    });
  }

  function text(v) { return v === null || v === undefined ? "never" : String(v); }

  function loadStatus() {
    var id = $("tenant").value.trim();
    if (!token() || !id) { return; }
    fetch("/v1/status", { headers: headers({}), cache: "no-store" }).then(function (r) {
      return r.json().then(function (d) { return { status: r.status, d: d }; });
    }).then(function (x) {
      if (x.status !== 200) {
        $("last-error").textContent = x.d.detail || x.d.error || ("HTTP " + x.status);
        return;
      }
      var t = (x.d.tenants || []).filter(function (e) { return e.id === id; })[0];
      $("last-success").textContent = t ? text(t.last_success) : "never";
      $("last-error").textContent = t && t.last_error ? t.last_error : "none";
      $("deferred").textContent = t ? String(t.deferred) : "0";
    }).catch(function (e) {
      $("last-error").textContent = "cannot reach the relay (" + e.message + ")";
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    var saved = window.sessionStorage.getItem(TOKEN_KEY);
    if (saved) { $("token").value = saved; }
    $("token").addEventListener("input", function () {
      if (token()) { window.sessionStorage.setItem(TOKEN_KEY, token()); }
      else { window.sessionStorage.removeItem(TOKEN_KEY); }
    });
    $("smtp-form").addEventListener("submit", save);
    $("refresh").addEventListener("click", loadStatus);
    $("tenant").addEventListener("change", loadStatus);
  });
}());
