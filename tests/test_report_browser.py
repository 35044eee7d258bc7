"""Open a generated report in a real headless Chromium (the distribution's, driven by its
chromedriver through selenium; nothing downloads a browser) and check what a person would see.

The screenshot is kept under artifacts/ (or $ADVISOR_ARTIFACTS). Locally, without Chromium,
the test is skipped; in CI (CI=true) a missing browser is a failure, not a skip.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

import advisor
from advisor.output.report import write_report

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMEDRIVER = shutil.which("chromedriver")


def _driver():
    if not (CHROMIUM and CHROMEDRIVER):
        if os.environ.get("CI"):
            pytest.fail("CI must have Chromium and chromedriver (.ci/run installs them)")
        pytest.skip("Chromium / chromedriver not installed")
    webdriver = pytest.importorskip("selenium.webdriver") if not os.environ.get("CI") else __import__("selenium.webdriver", fromlist=["webdriver"])
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync", "--window-size=1280,2000"):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    service = webdriver.ChromeService(executable_path=CHROMEDRIVER)
    return webdriver.Chrome(service=service, options=options)


def test_report_renders_in_a_real_browser(tmp_path, classic_only, mixed_frame):
    rec = advisor.recommend(mixed_frame, "generate", budget=8, max_trials=2)
    page = write_report(rec.to_dict(), tmp_path / "report.html")
    driver = _driver()
    try:
        driver.get(page.as_uri())
        errors = [entry for entry in driver.get_log("browser") if entry["level"] in ("SEVERE", "ERROR")]
        assert not errors, errors
        shown = driver.find_element("id", "recommendation")
        assert shown.is_displayed() and shown.text == rec.best_family
        figures = driver.find_elements("css selector", "figure.figure svg")
        assert len(figures) >= 4  # criteria, Pareto, history, real against generated
        for fig in figures:
            size = fig.size
            assert size["width"] > 50 and size["height"] > 50, size
        artifacts = Path(os.environ.get("ADVISOR_ARTIFACTS", ROOT / "artifacts"))
        artifacts.mkdir(parents=True, exist_ok=True)
        height = driver.execute_script("return document.body.scrollHeight")
        driver.set_window_size(1280, min(int(height) + 100, 6000))
        assert driver.save_screenshot(str(artifacts / "report.png"))
    finally:
        driver.quit()
