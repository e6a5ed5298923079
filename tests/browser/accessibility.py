"""WCAG 2.2 AA checks of a page as the browser shows it, with Deque's axe-core (vendored under vendor/axe-core).

The engine is injected through WebDriver, which the page's Content-Security-Policy does not govern, and never
served by Muster.
"""

import re
from pathlib import Path

AXE = (Path(__file__).parent / "vendor" / "axe-core" / "axe.min.js").read_text()
INLINE_STYLE_REFUSED = re.compile(r"Applying inline style violates the following Content Security Policy")
WCAG_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]


def accessibility_problems(browser, context: str = "document") -> list[str]:
    """Every WCAG 2.2 A/AA rule the page (or the element ``context`` selects) breaks, one line each with the
    elements that break it; empty when it passes.

    axe sets inline styles while it measures, which the page's Content-Security-Policy refuses and reports in the
    console: those reports are axe's, not the page's, and are dropped; every other console error is kept for the
    ``browser`` fixture to fail the test on.
    """
    driver = browser.driver
    browser.kept_errors += browser.console_errors()
    if not driver.execute_script("return typeof window.axe !== 'undefined'"):
        driver.execute_script(AXE)
    violations = driver.execute_async_script(
        """const done = arguments[arguments.length - 1];
        const context = arguments[0] === "document" ? document : document.querySelector(arguments[0]);
        axe.run(context, {runOnly: {type: "tag", values: arguments[1]}, resultTypes: ["violations"]})
          .then(result => done(result.violations.map(v => ({
              id: v.id, impact: v.impact, help: v.help,
              nodes: v.nodes.map(n => n.target.join(" ")).slice(0, 5)}))))
          .catch(error => done([{id: "axe-error", impact: "critical", help: String(error), nodes: []}]));""",
        context, WCAG_AA)
    browser.kept_errors += [error for error in browser.console_errors() if not INLINE_STYLE_REFUSED.search(error)]
    return [f"{v['id']} ({v['impact']}): {v['help']} — {', '.join(v['nodes'])}" for v in violations]
