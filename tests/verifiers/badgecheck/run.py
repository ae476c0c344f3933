"""Run 1EdTech's badgecheck offline (inside its own virtualenv, Python 3.10+).

stdin: {"input": "<URL or assertion JSON>"} or {"file": "<path of a baked PNG/SVG>"},
plus "context": "<path of the OB 2.0 context file>" and optionally "email" (the recipient
whose salted hash the assertion must carry).
stdout: badgecheck's report as JSON (``report.valid``, ``report.messages``, ``graph``).

Only 127.0.0.1/localhost is fetched over HTTP; the OB 2.0 context is served from the
given file, and every other URL fails (nothing leaves the machine).
"""

import collections
import collections.abc
import json
import sys

# badgecheck 1.1.8 predates Python 3.10, where these aliases were removed.
for name in ("Mapping", "MutableMapping", "Sequence", "Iterable", "Callable"):
    setattr(collections, name, getattr(collections.abc, name))

from urllib.parse import urlparse  # noqa: E402

import requests  # noqa: E402
from requests.adapters import HTTPAdapter  # noqa: E402

OB2_CONTEXT_URLS = ("https://w3id.org/openbadges/v2", "https://openbadgespec.org/v2/context.json")


def main() -> None:
    request = json.load(sys.stdin)
    with open(request["context"], "rb") as file:
        context = file.read()
    real_send = HTTPAdapter.send

    def send(self, prepared, **kwargs):  # type: ignore[no-untyped-def]
        url = prepared.url.rstrip("/")
        if url in OB2_CONTEXT_URLS:
            response = requests.Response()
            response.status_code = 200
            response._content = context
            response.headers["Content-Type"] = "application/ld+json"
            response.url = prepared.url
            response.request = prepared
            return response
        if urlparse(prepared.url).hostname not in ("127.0.0.1", "localhost"):
            raise requests.ConnectionError(f"offline: refusing to fetch {prepared.url}")
        return real_send(self, prepared, **kwargs)

    HTTPAdapter.send = send  # type: ignore[method-assign]
    from openbadges import verify
    from openbadges.verifier import verifier

    # Known badgecheck bug: unbaking an SVG returns bytes, which input detection rejects.
    unbake = verifier.unbake

    def unbake_text(image):  # type: ignore[no-untyped-def]
        data = unbake(image)
        return data.decode("utf-8") if isinstance(data, bytes) else data

    verifier.unbake = unbake_text

    recipient = {"email": request["email"]} if request.get("email") else None
    if "file" in request:
        with open(request["file"], "rb") as image:
            result = verify(image, recipient_profile=recipient, use_cache=False)
    else:
        result = verify(request["input"], recipient_profile=recipient, use_cache=False)
    json.dump(result, sys.stdout, default=str)


if __name__ == "__main__":
    main()
