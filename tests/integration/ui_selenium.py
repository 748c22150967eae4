#!/usr/bin/python3
"""Drive the reference SMTP settings page in headless Chromium (Selenium):
fill the form and save with a wrong password (see the failed step and its
hint), then with the right one (see every step live), then the status.
Screenshots go to OUTDIR.  Prints one "ok NAME" / "not ok NAME" line per
check for the calling shell test; exit status 0 when all passed.

usage: ui_selenium.py URL TOKEN OUTDIR PROFILE_DIR HOST PORT USER GOODPW BADPW SENDER STATUS_FLAG_FILE
"""
import json
import os
import sys
import time

from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import WebDriverWait

url, token, outdir, profile, host, port, user, goodpw, badpw, sender, flag = sys.argv[1:12]
failures = 0


def check(name, cond):
    global failures
    print(("ok " if cond else "not ok ") + name, flush=True)
    if not cond:
        failures += 1


opts = webdriver.ChromeOptions()
opts.binary_location = "/usr/bin/chromium"
for a in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
          "--disable-background-networking", "--disable-component-update", "--disable-sync",
          "--user-data-dir=" + profile, "--window-size=1000,2400"):
    opts.add_argument(a)
drv = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=opts)
drv.set_page_load_timeout(30)
wait = WebDriverWait(drv, 60)
try:
    drv.get(url)
    check("the page loads", "SMTP configuration" in drv.title)
    # Accessibility: every input has its label; the TLS note is there.
    inputs = drv.find_elements(By.CSS_SELECTOR, "input")
    check("every input has a label",
          all(drv.find_elements(By.CSS_SELECTOR, "label[for='%s']" % i.get_attribute("id")) for i in inputs))
    check("the TLS note is shown", "TLS is required" in drv.find_element(By.ID, "tls-note").text)
    check("port defaults to 25", drv.find_element(By.ID, "port").get_attribute("value") == "25")

    # Keyboard only: type into each field, Tab between them.
    drv.find_element(By.ID, "token").click()
    drv.switch_to.active_element.send_keys(token)
    drv.switch_to.active_element.send_keys(Keys.TAB, "acme")
    check("Tab moves from the token to the tenant id", drv.switch_to.active_element.get_attribute("id") == "tenant")
    outline = drv.execute_script("return getComputedStyle(document.activeElement).outlineStyle")
    check("the focused field shows a visible outline", outline not in ("none", ""))
    drv.switch_to.active_element.send_keys(Keys.TAB, host)
    port_el = drv.find_element(By.ID, "port")
    port_el.clear()
    port_el.send_keys(port)
    drv.find_element(By.ID, "username").send_keys(user)
    drv.find_element(By.ID, "password").send_keys(badpw)
    drv.find_element(By.ID, "sender").send_keys(sender)
    drv.save_screenshot(os.path.join(outdir, "1-form.png"))
    drv.find_element(By.ID, "sender").send_keys(Keys.ENTER)        # submit from the keyboard
    wait.until(EC.text_to_be_present_in_element((By.ID, "verdict"), "failed"))
    failed = drv.find_elements(By.CSS_SELECTOR, "#steps li.step-failed")
    check("wrong password: the auth step is shown failed",
          len(failed) == 1 and failed[0].get_attribute("data-step") == "auth")
    check("  the steps before it passed, each with its duration",
          [li.get_attribute("data-step") for li in drv.find_elements(By.CSS_SELECTOR, "#steps li.step-ok")]
          == ["dns", "connect", "tls", "certificate", "ehlo"]
          and all(" ms" in li.text for li in drv.find_elements(By.CSS_SELECTOR, "#steps li.step-ok")))
    check("  the server's own reply is shown", "535" in failed[0].text if failed else False)
    check("  the failure box with a hint is visible",
          drv.find_element(By.ID, "failure").is_displayed() and len(drv.find_element(By.ID, "hint").text) > 10)
    check("  the password field was cleared", drv.find_element(By.ID, "password").get_attribute("value") == "")
    drv.save_screenshot(os.path.join(outdir, "2-wrong-password.png"))

    drv.find_element(By.ID, "password").send_keys(goodpw)
    drv.find_element(By.ID, "save").click()
    wait.until(EC.text_to_be_present_in_element((By.ID, "verdict"), "passed"))
    steps = drv.find_elements(By.CSS_SELECTOR, "#steps li")
    check("right password: every step passed",
          [li.get_attribute("data-step") for li in steps] ==
          ["dns", "connect", "tls", "certificate", "ehlo", "auth", "mail", "rcpt", "data", "message", "quit"]
          and not drv.find_elements(By.CSS_SELECTOR, "#steps li.step-failed"))
    check("  saved", "saved" in drv.find_element(By.ID, "verdict").text)
    check("  the failure box is hidden", not drv.find_element(By.ID, "failure").is_displayed())
    drv.save_screenshot(os.path.join(outdir, "3-saved.png"))

    # The shell sends a message through the relay now; then refresh the status.
    open(flag, "w").write("saved\n")
    deadline = time.time() + 60
    while not os.path.exists(flag + ".sent") and time.time() < deadline:
        time.sleep(0.2)
    ok_status = False
    for _ in range(30):
        drv.find_element(By.ID, "refresh").send_keys(Keys.ENTER)
        time.sleep(0.5)
        if drv.find_element(By.ID, "last-success").text not in ("never", "–", ""):
            ok_status = True
            break
    check("status: last success shown after a delivery", ok_status)
    check("  last error and deferred count shown",
          drv.find_element(By.ID, "last-error").text != "–" and drv.find_element(By.ID, "deferred").text == "0")
    drv.save_screenshot(os.path.join(outdir, "4-status.png"))

    store = drv.execute_script("return [sessionStorage.getItem('tenantrelay.apiToken'), localStorage.length,"
                               " document.cookie]")
    check("the token is kept in sessionStorage only", store == [token, 0, ""])
    check("nothing fetched from elsewhere",
          all(e["name"].startswith(url.split("/ui/")[0])
              for e in drv.execute_script("return performance.getEntriesByType('resource').map(function(e){return {name: e.name};})")))
finally:
    drv.quit()
sys.exit(1 if failures else 0)
