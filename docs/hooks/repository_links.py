"""MkDocs hook: README.md is the home page, and links to repository files outside docs/ work.

README.md and the pages under docs/ are written to be read on a code forge, where each link
is relative to the file's place in the repository (README links ``docs/quickstart.md``; a
page may link ``../experiments/configs/digits.yaml``).  MkDocs only knows the files under
``docs/``, so ``mkdocs build --strict`` would reject those links.  This hook keeps the
sources as they are and makes the site agree with them:

* README.md is published as the site's ``index.md``;
* every repository file outside ``docs/`` that a published page links to is published
  under ``repository/<its path>`` (a Markdown file as a page whose own links are followed
  in turn, anything else as a download);
* each page's links are re-based from its repository location to its place in the site.

Every link therefore still goes through MkDocs' own validation, so a link to a file that
does not exist still fails the strict build.
"""

from __future__ import annotations

import posixpath
import re
from pathlib import Path
from urllib.parse import unquote, urlsplit

from mkdocs.config.defaults import MkDocsConfig
from mkdocs.structure.files import File, Files
from mkdocs.structure.pages import Page

PUBLISHED_UNDER = "repository"
HOME_SOURCE = "README.md"
# An inline link or image target: "](target)" or "](target "title")".
LINK_TARGET = re.compile(r"(\]\()([^)\s]+)((?:\s+\"[^\"]*\")?\))")


def _repository_root(config: MkDocsConfig) -> Path:
    return Path(config.config_file_path).resolve().parent


def _docs_prefix(config: MkDocsConfig) -> str:
    return Path(config.docs_dir).resolve().relative_to(_repository_root(config)).as_posix()


def _repository_path(file: File, config: MkDocsConfig) -> str:
    """Where a published file lives in the repository, as a POSIX path from the root."""
    if file.src_uri == "index.md" and file.generated_by == __name__:
        return HOME_SOURCE
    if file.src_uri.startswith(PUBLISHED_UNDER + "/") and file.generated_by == __name__:
        return file.src_uri[len(PUBLISHED_UNDER) + 1:]
    return f"{_docs_prefix(config)}/{file.src_uri}"


def _site_path(repository_path: str, config: MkDocsConfig) -> str:
    """The source URI under which the site publishes a repository file."""
    if repository_path == HOME_SOURCE:
        return "index.md"
    prefix = _docs_prefix(config) + "/"
    if repository_path.startswith(prefix):
        return repository_path[len(prefix):]
    return f"{PUBLISHED_UNDER}/{repository_path}"


def _linked_repository_files(markdown: str, repository_path: str, config: MkDocsConfig) -> list[str]:
    """The existing repository files that the relative links of one Markdown source point to."""
    root, linked = _repository_root(config), []
    for match in LINK_TARGET.finditer(markdown):
        scheme, netloc, path, _, _ = urlsplit(match.group(2))
        if scheme or netloc or not path or path.startswith("/"):
            continue
        target = posixpath.normpath(posixpath.join(posixpath.dirname(repository_path), unquote(path)))
        if not target.startswith("../") and (root / target).is_file():
            linked.append(target)
    return linked


def on_files(files: Files, config: MkDocsConfig) -> Files:
    """Publish README.md as the home page and every outside file the pages link to."""
    root = _repository_root(config)
    home = File.generated(config, "index.md", abs_src_path=str(root / HOME_SOURCE))
    home.generated_by = __name__
    files.append(home)
    pending = [file for file in files if file.is_documentation_page()]
    while pending:
        page = pending.pop()
        source = _repository_path(page, config)
        for target in _linked_repository_files(Path(page.abs_src_path).read_text(encoding="utf-8"), source, config):
            site_path = _site_path(target, config)
            if files.get_file_from_path(site_path) is None:
                published = File.generated(config, site_path, abs_src_path=str(root / target))
                published.generated_by = __name__
                files.append(published)
                if published.is_documentation_page():
                    pending.append(published)
    return files


def on_page_markdown(markdown: str, page: Page, config: MkDocsConfig, files: Files) -> str:
    """Re-base each relative link from the page's repository location to its site location."""
    source = _repository_path(page.file, config)

    def rebase(match: re.Match[str]) -> str:
        scheme, netloc, path, query, fragment = urlsplit(match.group(2))
        if scheme or netloc or not path or path.startswith("/"):
            return match.group(0)
        target = posixpath.normpath(posixpath.join(posixpath.dirname(source), unquote(path)))
        site_target = _site_path(target, config)
        if files.get_file_from_path(site_target) is None:
            return match.group(0)  # left to MkDocs, which reports it
        relative = posixpath.relpath(site_target, posixpath.dirname(page.file.src_uri) or ".")
        suffix = (f"?{query}" if query else "") + (f"#{fragment}" if fragment else "")
        return f"{match.group(1)}{relative}{suffix}{match.group(3)}"

    return LINK_TARGET.sub(rebase, markdown)
