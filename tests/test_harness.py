"""The test harness's own promises, where a broken one would make the suite lie or fail for the wrong
reason."""

from __future__ import annotations

import pytest


@pytest.mark.e2e
def test_a_chromium_that_exited_between_tests_is_launched_again(chromium):
    chromium.browser.close()  # what a crashed browser looks like to the next test
    with pytest.warns(UserWarning, match="launched it again"):
        context = chromium.new_context()
    try:
        page = context.new_page()
        page.set_content("<p id=ok>ok</p>")
        assert page.inner_text("#ok") == "ok"
    finally:
        context.close()
