"""Before anything is measured: Onramp and the limit app give the same bodies.

The ratio of the two is only meaningful if both do the same work, so every measured
path is fetched from both, with and without gzip, and the decompressed bodies must be
equal byte for byte (httpx decodes gzip; the encodings themselves must agree too).
"""

from __future__ import annotations

from dataclasses import dataclass

import httpx


class NotTheSameWork(AssertionError):
    pass


@dataclass(frozen=True)
class Compared:
    path: str
    encoding: str
    length: int


def same_bodies(ours: str, limit: str, paths: list[str], token: str) -> list[Compared]:
    """Every path, both encodings: identical bodies and the same Content-Encoding."""
    compared = []
    for path in paths:
        for encoding in ("identity", "gzip"):
            headers = {"Authorization": f"Bearer {token}", "Accept-Encoding": encoding}
            a = httpx.get(ours + path, headers=headers, timeout=10)
            b = httpx.get(limit + path, headers=headers, timeout=10)
            if a.status_code != 200 or b.status_code != 200:
                raise NotTheSameWork(f"{path}: status {a.status_code} vs {b.status_code}")
            if a.headers.get("content-encoding") != b.headers.get("content-encoding"):
                raise NotTheSameWork(f"{path} ({encoding}): Content-Encoding differs")
            if a.content != b.content:
                raise NotTheSameWork(
                    f"{path} ({encoding}): bodies differ\nonramp: {a.content[:300]!r}\n"
                    f"limit:  {b.content[:300]!r}"
                )
            compared.append(Compared(path, encoding, len(a.content)))
    return compared
