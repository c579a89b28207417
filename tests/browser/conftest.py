"""On a failed browser step: a screenshot, the browser's console and network log and the
tails of Home Assistant's and the add-on's logs, attached to the test's report."""

from __future__ import annotations

from collections.abc import Generator
from typing import Any

import pytest


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    report = yield
    journey: Any = getattr(item, "funcargs", {}).get("journey")
    if report.when == "call" and report.failed and journey is not None:
        folder = journey.artifacts
        browser = journey.browser
        browser.save_artifacts(folder, item.name)
        console = "\n".join(e["message"] for e in browser.console_errors())
        failed = "\n".join(f"{e.status or e.error} {e.url}" for e in browser.network_failures())
        report.sections.append(
            (
                "browser",
                f"screenshot and logs in {folder}\n--- console errors:\n{console}"
                f"\n--- failed requests:\n{failed}\n{journey.stack.logs(30)}",
            )
        )
    return report
