"""A small Pelican site (the fixture of tests/test_site_generators.py).

Default URLs ({slug}.html, slugs from titles), folders as categories.  The feeds list every
article; a summary is the first paragraph (or the Summary metadata).  Dated in the future
means not published yet (WITH_FUTURE_DATES = False).
"""

AUTHOR = "Fixture Author"
SITENAME = "Pelican fixture"
SITEURL = "https://pelican.example.org"
PATH = "content"
TIMEZONE = "UTC"
DEFAULT_LANG = "en"

FEED_DOMAIN = SITEURL
FEED_ALL_ATOM = "feeds/all.atom.xml"
FEED_ALL_RSS = "feeds/all.rss.xml"
CATEGORY_FEED_ATOM = None
TRANSLATION_FEED_ATOM = None
AUTHOR_FEED_ATOM = None
AUTHOR_FEED_RSS = None
FEED_MAX_ITEMS = 1000
RSS_FEED_SUMMARY_ONLY = True
SUMMARY_MAX_PARAGRAPHS = 1
SUMMARY_MAX_LENGTH = None
WITH_FUTURE_DATES = False

DEFAULT_PAGINATION = False
RELATIVE_URLS = False
LOAD_CONTENT_CACHE = False
STATIC_PATHS = ["extra/robots.txt"]
EXTRA_PATH_METADATA = {"extra/robots.txt": {"path": "robots.txt"}}
