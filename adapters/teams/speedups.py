"""A behaviour-preserving fix to msrest that every botbuilder connector client pays for.

msrest's ClientRetryPolicy builds its list of retryable status codes by testing
each of 999 codes for membership in a 502-item *list*: about 12 ms of CPU on the
event loop for every client, and botbuilder builds two clients (connector and
user-token) for every turn and every proactive message. Under load that alone
caps a process at a few dozen turns a second and delays every other request.
The same codes held in a frozenset make each test O(1); `safe_codes` is read
nowhere else, and the resulting retry policy is identical (a test checks).
"""

from __future__ import annotations

from msrest.universal_http.requests import ClientRetryPolicy


def apply() -> None:
    """Idempotent; called wherever a CloudAdapter is built."""
    if not isinstance(ClientRetryPolicy.safe_codes, frozenset):
        ClientRetryPolicy.safe_codes = frozenset(ClientRetryPolicy.safe_codes)  # type: ignore[assignment]
