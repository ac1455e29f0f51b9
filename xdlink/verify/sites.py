"""The sites to verify: each one's host, start page and built folder, and what the folder holds.

A built folder is served to the browser under the site's real ``https://`` host name
(``serving.py``), so it is read here as a static host would read it.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from urllib.parse import urlsplit

from xdlink.domains import normalize_domain
from xdlink.links import link_urls, url_host
from xdlink.site import scan_tree
from xdlink.source import PageError, Source, read_source
from xdlink.verify.diagnoses import Diagnosis, VerifyFailure


@dataclass(frozen=True)
class Target:
    """One site to verify: its host, its start page and, before deploy, its folder."""

    host: str
    start: str  # the URL of the start page
    folder: Path | None = None

    @classmethod
    def from_folder(cls, spec: str) -> Target:
        """Read a built site given as ``HOST=DIR`` or ``HOST=DIR:/START/PATH``."""
        host, equals, rest = spec.partition("=")
        if not equals or not rest:
            raise VerifyFailure(Diagnosis.SITE_WITHOUT_FOLDER, spec=spec)
        folder, start = rest, "/"
        if ":/" in rest:
            folder, _, path = rest.rpartition(":/")
            start = "/" + path
        name = normalize_domain(host)
        if name.startswith("*."):
            raise VerifyFailure(Diagnosis.SITE_WILDCARD, spec=spec)
        if not Path(folder).is_dir():
            raise VerifyFailure(Diagnosis.SITE_NOT_A_FOLDER, spec=spec, folder=folder)
        return cls(name, f"https://{name}{start}", Path(folder))

    @classmethod
    def from_url(cls, url: str) -> Target:
        """Read a deployed site given as the address of its start page."""
        host = url_host(url)
        if host is None or urlsplit(url).scheme not in ("http", "https"):
            raise VerifyFailure(Diagnosis.SITE_NOT_HTTP, url=url)
        return cls(host, url)

    def page_url(self, relative: str) -> str:
        """Return the address under which the browser is served a page of the folder."""
        path = PurePosixPath(relative)
        served = "" if path.name == "index.html" else path.name
        folder = "" if str(path.parent) == "." else f"{path.parent}/"
        origin = urlsplit(self.start)
        return f"{origin.scheme}://{origin.netloc}/{folder}{served}"

    def check_start_page(self) -> None:
        """Fail when a built folder cannot serve the start page; a deployed site passes."""
        if self.folder is None:
            return
        relative = urlsplit(self.start).path.lstrip("/")
        candidates = (relative, os.path.join(relative, "index.html"), relative + ".html")
        if not any((self.folder / name).is_file() for name in candidates if name):
            page = relative or "index.html"
            raise VerifyFailure(
                Diagnosis.START_PAGE_MISSING, start=self.start, folder=self.folder, page=page
            )

    def folder_link(self, target: Target) -> tuple[str, str] | None:
        """Find the first page of the folder, the start page first, with a link to the
        target's host.

        The result is the page's address and the link as the page writes it, or None when
        no page links there.
        """
        assert self.folder is not None
        for relative in self._pages():
            try:
                page = read_source((self.folder / relative).read_bytes())
            except (OSError, PageError):
                continue
            if not isinstance(page, Source):  # a page xdlink skips (its reason)
                continue
            host = target.host
            urls = [url for url in link_urls(page.text, host) if url_host(url) == host]
            if urls:
                return self.page_url(relative), urls[0]
        return None

    def _pages(self) -> list[str]:
        """Return the folder's pages, the start page first."""
        assert self.folder is not None
        pages = scan_tree(self.folder).pages
        start = urlsplit(self.start).path.lstrip("/")
        first = [page for page in pages if page in (start, os.path.join(start, "index.html"))]
        return first + [page for page in pages if page not in first]


def file_for(folder: Path, path: str) -> Path | None:
    """Return the file a static host serves for a path: the file itself, the folder's
    index.html, or the name with .html added, and never a file outside the folder."""
    relative = path.lstrip("/")
    root = folder.resolve()
    for candidate in (relative, os.path.join(relative, "index.html"), relative + ".html"):
        file = (folder / candidate).resolve()
        if file.is_file() and (file == root or root in file.parents):
            return file
    return None
