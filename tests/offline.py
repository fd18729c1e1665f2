"""A machine without a network, for crawls in tests: ``-s TWISTED_DNS_RESOLVER=tests.offline.NoNetworkResolver``.

Every host name fails to resolve, as it does when the network is down, so a crawl meets exactly the error
it meets then, without a single packet leaving the machine. Literal addresses (127.0.0.1) need no lookup
and still work.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from twisted.internet import defer
from twisted.internet.error import DNSLookupError
from twisted.internet.interfaces import IResolverSimple
from zope.interface import implementer

SETTING = ["-s", f"TWISTED_DNS_RESOLVER={__name__}.NoNetworkResolver"]


@implementer(IResolverSimple)
class NoNetworkResolver:
    def __init__(self, reactor: Any) -> None:
        self.reactor = reactor

    @classmethod
    def from_crawler(cls, crawler: Any, reactor: Any) -> NoNetworkResolver:
        return cls(reactor)

    def install_on_reactor(self) -> None:
        self.reactor.installResolver(self)

    def getHostByName(self, name: str, timeout: Sequence[int] = ()) -> defer.Deferred[str]:
        if name.replace(".", "").isdigit():
            return defer.succeed(name)
        return defer.fail(DNSLookupError(f"no results for hostname lookup: {name} (the network is down)"))
