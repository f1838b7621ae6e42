"""MkDocs hook: pages made of repository files, with their links made to work on the site.

A page whose text is ``<!-- include: PATH -->`` shows the file PATH of the repository (the
README, the benchmark notes, the changelog), so the site and the repository never disagree.
Links in it are relative to the repository; they are rewritten to the site's pages, and a link
to a file the site does not carry keeps its words without the link.
"""

from __future__ import annotations

import posixpath
import re
from pathlib import Path

INCLUDE = re.compile(r"^<!-- include: (\S+) -->\s*$", re.MULTILINE)
LINK = re.compile(r"\[([^\]]*)\]\(([^)\s#]*)(#[^)\s]*)?\)")
# Repository files that are pages of the site.
SITE_PAGES = {
    "README.md": "index.md",
    "benchmarks/README.md": "benchmarks.md",
    "benchmarks/RESULTS.md": "results.md",
    "CHANGELOG.md": "changelog.md",
}


def on_page_markdown(markdown, page, config, files):
    match = INCLUDE.fullmatch(markdown.strip())
    if match is None:
        return markdown
    source = match.group(1)
    text = (Path(config["config_file_path"]).parent / source).read_text(encoding="utf-8")
    folder = posixpath.dirname(source)

    def relink(link: re.Match) -> str:
        words, target, anchor = link.group(1), link.group(2), link.group(3) or ""
        if "://" in target or target.startswith("mailto:"):
            return link.group(0)
        if not target:  # an anchor on the same page
            return link.group(0)
        path = posixpath.normpath(posixpath.join(folder, target))
        page_path = SITE_PAGES.get(path) or (path[5:] if path.startswith("docs/") else None)
        if page_path is not None and files.get_file_from_path(page_path) is not None:
            here = posixpath.dirname(page.file.src_uri)
            return f"[{words}]({posixpath.relpath(page_path, here or '.')}{anchor})"
        return words

    return LINK.sub(relink, text)
