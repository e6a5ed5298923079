"""Debian's headless Chromium driven by its chromedriver, as the browser tests and the field app's benchmark
(bench/field_app.py) start it. No other browser: never one a tool downloads itself."""

import os

CHROMIUM, CHROMEDRIVER = "/usr/bin/chromium", "/usr/bin/chromedriver"
# As the machine's own probe starts it: no first-run, sync, component or background traffic (the machine's
# network is closed, and each refused connection is an error in the log), a fresh profile each time.
FLAGS = ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--disable-dev-shm-usage", "--window-size=1400,1000", "--lang=en-GB")


def start_chromium(profile: str):
    """Chromium on the profile folder ``profile``, driven by chromedriver, with the console kept for reading."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in (*FLAGS, f"--user-data-dir={profile}"):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    # British times on the pages (toLocaleTimeString): headless Chromium takes its locale from the environment.
    service = Service(CHROMEDRIVER, env={**os.environ, "LANGUAGE": "en_GB", "LANG": "en_GB.UTF-8"})
    driver = webdriver.Chrome(service=service, options=options)
    driver.set_page_load_timeout(30)
    return driver
