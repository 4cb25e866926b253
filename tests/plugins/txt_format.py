"""A plain-text output format: a title line, then one ``id<TAB>title`` line per item."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from feeds.errors import PublishError
from feeds.model import Channel, Item
from feeds.publish.render import FormatRenderer, Summary


def renderer(channel: Channel) -> FormatRenderer:
    def frame(summary: Summary) -> tuple[bytes, bytes]:
        return f"# {channel.title} ({summary.count})\n".encode(), b""

    def entry(item: Item) -> bytes:
        return f"{item.id}\t{item.article.title}\n".encode()

    return FormatRenderer("txt", channel, entry, b"", frame, lambda item: False)


def read_back(data: bytes) -> tuple[int | None, list[dict[str, Any]]]:
    lines = data.decode("utf-8").splitlines()[1:]
    return None, [dict(zip(("id", "title"), line.split("\t", 1), strict=True))
                  for line in lines]


def verify(data: bytes, items: Sequence[Item]) -> None:
    _updated, entries = read_back(data)
    if [e["id"] for e in entries] != [item.id for item in items]:
        raise PublishError("txt: the ids do not read back")
