"""A stand-in for the user's browser in the website authorization workflow (run as $BROWSER).

``fake_browser.py URL``: opens the consent page, signs in as ``$SPLAKE_FAKE_BROWSER_SIGNIN`` (a sandbox
account id) and presses Confirm (or Cancel with ``$SPLAKE_FAKE_BROWSER_ACTION=cancel``), following
every redirect like a browser — Amazon's 302 lands on splake's loopback listener. Exits non-zero when a
page answers with an error status.
"""

from __future__ import annotations

import os
import re
import sys
from urllib.parse import urljoin

import httpx


def main(url: str) -> int:
    account = os.environ.get("SPLAKE_FAKE_BROWSER_SIGNIN", "seller-na")
    action = os.environ.get("SPLAKE_FAKE_BROWSER_ACTION", "confirm")
    with httpx.Client(follow_redirects=True, timeout=30, trust_env=False) as http:
        page = http.get(url)
        if page.status_code != 200:
            print(f"consent page: HTTP {page.status_code}", file=sys.stderr)
            return 1
        form_action = re.search(r"<form method='post' action='([^']+)'", page.text)
        assert form_action is not None, page.text
        fields = dict(re.findall(r"<input type='hidden' name='([^']+)' value='([^']*)'>", page.text))
        fields = {k: v.replace("&amp;", "&") for k, v in fields.items()}
        fields.update(account=account, action=action)
        landed = http.post(urljoin(str(page.url), form_action.group(1)), data=fields)
        print(f"landed on {landed.url.copy_with(query=None)}: HTTP {landed.status_code}", file=sys.stderr)
        return 0 if landed.status_code == 200 else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
