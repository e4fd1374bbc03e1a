"""Where a webhook may be sent: an http(s) URL whose host resolves to public addresses only, unless the deployment
allows private ones (QUALTRACK_WEBHOOK_ALLOW_PRIVATE, for tests and private networks). Checked when an endpoint is
registered and again before every attempt, since what a name resolves to can change."""

import ipaddress
import socket
import urllib.parse


def url_problem(url: str) -> str | None:
    """Why ``url`` cannot be a webhook URL as written (None if it can): http(s), a host, no credentials."""
    try:
        parts = urllib.parse.urlsplit(url)
        port = parts.port
    except ValueError:
        return "not a URL"
    if parts.scheme not in ("https", "http"):
        return "must be an http or https URL"
    if not parts.hostname:
        return "has no host"
    if parts.username is not None or parts.password is not None:
        return "may not carry credentials: verify the signature instead"
    if parts.fragment:
        return "may not have a fragment"
    if port == 0:
        return "has port 0"
    return None


def address_problem(url: str, allow_private: bool) -> str | None:
    """Why the host of a well-formed ``url`` may not be sent to now (None if it may): it does not resolve, or (unless
    ``allow_private``) it resolves to a loopback, private, link-local or otherwise non-public address."""
    host = urllib.parse.urlsplit(url).hostname
    try:
        addresses = {info[4][0] for info in socket.getaddrinfo(host, None, proto=socket.IPPROTO_TCP)}
    except (OSError, UnicodeError):
        return f"the host {host} does not resolve"
    if allow_private:
        return None
    for address in sorted(addresses):
        ip = ipaddress.ip_address(address.split("%", 1)[0])
        if not ip.is_global or ip.is_multicast:
            return f"the host {host} resolves to {address}, a private or reserved address"
    return None
