"""Which addresses the browser pack opens.

Web pages (http, https), `about:blank` and `data:` documents are opened; bare host names get
https. `file:` is refused outright: a page opened from a file may link to any other local file,
and Chromium runs with the server's read access to the system (root, in a container). Local
pages are served over http instead. Browser-internal schemes (`chrome:`, `devtools:`,
`view-source:`, `javascript:`, ...) are refused: they change settings or run code outside a page.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from cua_mcp.errors import InvalidArgumentError

ALLOWED_SCHEMES = ("http", "https", "about", "data")
_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:")
_HOST_PORT = re.compile(r"^[A-Za-z0-9.-]+:\d+(/|$)")


def check_url(url: str) -> str:
    """`url` as it will be opened, or `InvalidArgumentError` saying which addresses are allowed."""
    url = url.strip()
    if not url:
        raise InvalidArgumentError("url is empty: give a web address such as https://example.org.")
    if _HOST_PORT.match(url):
        url = "http://" + url  # localhost:8000/form: a host and port, as the address bar reads it
    elif not _SCHEME.match(url):
        url = "https://" + url.removeprefix("//")
    if any(ord(c) < 0x20 or 0x7F <= ord(c) <= 0x9F for c in url):
        raise InvalidArgumentError("url has control characters: give a web address such as https://example.org.")
    try:
        scheme = urlsplit(url).scheme.lower()
    except ValueError as e:  # e.g. a ']' where a host should be
        raise InvalidArgumentError(f"url is not a web address ({e}): give one such as https://example.org.") from e
    if scheme == "file":
        raise InvalidArgumentError(
            "file: URLs are refused: a page opened from a file could read other local files. Serve the "
            "file over http, or read it with read_file."
        )
    # Chromium maps about:NAME to chrome://NAME (settings, flags): only the blank page is a page.
    if scheme not in ALLOWED_SCHEMES or (scheme == "about" and url.lower() != "about:blank"):
        raise InvalidArgumentError(
            f"{scheme}: URLs are refused; the browser pack opens http, https, data: and about:blank addresses."
        )
    return url
