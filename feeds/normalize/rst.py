"""reStructuredText file -> ``Article``, as Pelican reads one (docutils).

::

    Night trains return
    ###################

    :date: 2010-10-03 10:20
    :modified: 2010-10-04 18:40
    :tags: rail, travel
    :category: news
    :slug: night-trains
    :authors: Ann Lee, Bob Roe
    :summary: Short version for index and feeds

    The body ...

The document title is the title; the docinfo fields right after it are the metadata
(``date``, ``modified``, ``category``, ``tags``, ``slug``, ``author``, ``authors``,
``summary``, ``status``, ``lang`` ...: :mod:`feeds.normalize.sitemeta` reads them as it
reads front matter).  The body is rendered by docutils' HTML5 writer, then sanitized
like every reader's HTML.

docutils runs with safe settings: no file insertion (``include``, ``csv-table`` ``:file:``
and ``:url:``, so no file is read and no network is used), no ``raw`` directive, no
configuration files, messages silenced and never halting.  Whatever docutils raises on a
file is that file's one-line rejection.
"""

from __future__ import annotations

import functools
from typing import Any

from feeds.errors import ArticleError
from feeds.model import Article, RawInput
from feeds.normalize import ReadContext
from feeds.normalize.sanitize import html_to_text, sanitize_html
from feeds.normalize.siteread import Parsed, assemble
from feeds.normalize.textbits import decode_utf8
from feeds.text import one_line

__all__ = ["read_rst"]

_SETTINGS: dict[str, Any] = {
    "file_insertion_enabled": False,
    "raw_enabled": False,
    "_disable_config": True,
    "report_level": 5,  # quiet
    "halt_level": 5,  # never halt: errors become nodes, dropped below
    "warning_stream": False,
    "traceback": True,  # exceptions reach us (and become the file's rejection)
    "input_encoding": "unicode",
    "output_encoding": "unicode",
    "embed_stylesheet": False,
    "stylesheet_path": "",
    "syntax_highlight": "none",
    "math_output": "HTML",
    "smart_quotes": False,
    "doctitle_xform": True,
    "docinfo_xform": True,
    "sectsubtitle_xform": False,
    "initial_header_level": 2,
    "image_loading": "link",
    "character_level_inline_markup": False,
}


@functools.cache
def _docutils() -> Any:
    """docutils, imported when the first .rst file is read (it is large)."""
    import docutils.core
    import docutils.io
    import docutils.nodes
    import docutils.parsers.rst
    import docutils.readers.standalone
    import docutils.writers.html5_polyglot

    return docutils


def _publish(text: str, key: str) -> tuple[Any, dict[str, str]]:
    docutils = _docutils()
    parser = docutils.parsers.rst.Parser()
    publisher = docutils.core.Publisher(
        reader=docutils.readers.standalone.Reader(parser), parser=parser,
        writer=docutils.writers.html5_polyglot.Writer(),
        source_class=docutils.io.StringInput, destination_class=docutils.io.StringOutput)
    publisher.process_programmatic_settings(None, dict(_SETTINGS), None)
    publisher.set_source(text, key)
    publisher.set_destination(None, None)
    publisher.set_io()
    # Publisher.publish(), with the substitutions measured before they are expanded
    document = publisher.document = publisher.reader.read(
        publisher.source, publisher.parser, publisher.settings)
    _check_substitutions(document)
    publisher.apply_transforms()
    publisher.writer.write(document, publisher.destination)
    publisher.writer.assemble_parts()
    return document, publisher.writer.parts


#: most substitution references a document may expand to, nested ones included
_MAX_SUBSTITUTIONS = 10_000


def _check_substitutions(document: Any) -> None:
    """Refuse a document whose substitutions expand too far: docutils expands nested
    ones (``.. |a| replace:: |b| |b|``) without a bound, so a few lines can double into
    billions of nodes.  Counted over the definitions' graph, each definition once."""
    nodes = _docutils().nodes
    defs, names = document.substitution_defs, document.substitution_names

    def target(ref: Any) -> str | None:
        name = ref.get("refname", "")
        found: str | None = name if name in defs else names.get(name.lower())
        return found

    refs = {name: [target(r) for r in node.findall(nodes.substitution_reference)]
            for name, node in defs.items()}
    size: dict[str, int] = {}

    def expanded(name: str | None, seen: frozenset[str]) -> int:
        if name is None or name in seen:  # unknown or circular: docutils reports it
            return 1
        if name not in size:
            size[name] = 1 + sum(min(expanded(r, seen | {name}), _MAX_SUBSTITUTIONS)
                                 for r in refs.get(name, ()))
        return size[name]

    total = 0
    for ref in document.findall(nodes.substitution_reference):
        if not _in_definition(ref, nodes):
            total += expanded(target(ref), frozenset())
            if total > _MAX_SUBSTITUTIONS:
                raise ArticleError("reStructuredText substitutions expand too far "
                                   f"(over {_MAX_SUBSTITUTIONS:,} nested references)")


def _in_definition(node: Any, nodes: Any) -> bool:
    parent = node.parent
    while parent is not None:
        if isinstance(parent, nodes.substitution_definition):
            return True
        parent = parent.parent
    return False


def _docinfo(document: Any) -> dict[str, Any]:
    """The docinfo fields, lower-cased, as text (``authors`` as a list)."""
    nodes = _docutils().nodes
    meta: dict[str, Any] = {}
    for info in document.findall(nodes.docinfo):
        for field in info.children:
            if isinstance(field, nodes.authors):
                meta["authors"] = [one_line(author.astext()) for author in field.children]
            elif isinstance(field, nodes.field):
                name = one_line(field[0].astext()).lower()
                meta.setdefault(name, one_line(field[1].astext()))
            elif isinstance(field, nodes.Element):
                meta.setdefault(field.tagname.lower(), one_line(field.astext()))
    return meta


def read_rst(data: bytes, *, source: str, key: str, ctx: ReadContext,
             mtime_ns: int | None = None) -> Article:
    """Read one reStructuredText file.  ``ArticleError(reason)`` when it is not an article."""
    text = decode_utf8(data)
    try:
        document, parts = _publish(text, key)
    except ArticleError:
        raise
    except RecursionError:
        raise ArticleError("reStructuredText nested too deeply") from None
    except Exception as error:  # docutils' own errors, worded by it
        reason = one_line(str(error)) or type(error).__name__
        raise ArticleError(f"not valid reStructuredText: {reason}"[:200]) from None
    meta = _docinfo(document)
    title = one_line(document.get("title") or "") or None
    if title is None and isinstance(meta.get("title"), str):
        title = meta["title"] or None
    if not title:
        raise ArticleError("no title")
    html = parts.get("body", "")
    first = next((node for node in document.findall(_docutils().nodes.paragraph)
                  if not _in_docinfo(node)), None)
    summary = meta.get("summary")
    if isinstance(summary, str):  # Pelican renders it as reST: its text is what reads
        meta["summary"] = html_to_text(sanitize_html(summary)) or None
    parsed = Parsed(title=title, html=html,
                    first_paragraph=one_line(first.astext()) if first is not None else None)
    return assemble(meta, parsed, source=source, key=key, ctx=ctx, mtime_ns=mtime_ns)


def _in_docinfo(node: Any) -> bool:
    nodes = _docutils().nodes
    parent = node.parent
    while parent is not None:
        if isinstance(parent, nodes.docinfo | nodes.system_message):
            return True
        parent = parent.parent
    return False


def read(raw: RawInput, ctx: ReadContext) -> Article:
    """``feeds.normalize.READERS``' entry point for the 'rst' kind."""
    mtime_ns = raw.file.mtime_ns if raw.file is not None else None
    return read_rst(raw.data, source=raw.source, key=raw.key, ctx=ctx, mtime_ns=mtime_ns)
