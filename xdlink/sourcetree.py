"""Whether a folder is a site generator's source rather than its output.

Run on a generator's source, xdlink would write its element into layouts and templates,
and the next build would bake it into every page under the wrong settings. A source
folder shows itself by the generator's configuration file at its top.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Generator:
    name: str
    configs: tuple[str, ...]  # file names, "*" for any ending
    output: str  # where it writes the site, relative to the source folder


GENERATORS = (
    Generator("Hugo", ("hugo.toml", "hugo.yaml", "hugo.json"), "public/"),
    Generator("MkDocs", ("mkdocs.yml", "mkdocs.yaml"), "site/"),
    Generator("Sphinx", ("conf.py",), "_build/html/"),
    Generator("Jekyll", ("_config.yml", "_config.toml"), "_site/"),
    Generator("Docusaurus", ("docusaurus.config.*",), "build/"),
    Generator("Astro", ("astro.config.*",), "dist/"),
    Generator("Eleventy", ("eleventy.config.*", ".eleventy.js"), "_site/"),
    Generator("Next.js", ("next.config.*",), "out/"),
    Generator("SvelteKit", ("svelte.config.*",), "build/"),
    Generator("Gatsby", ("gatsby-config.*",), "public/"),
    Generator("Nuxt", ("nuxt.config.*",), ".output/public/"),
    Generator("VitePress", (".vitepress",), ".vitepress/dist/"),
    Generator("mdBook", ("book.toml",), "book/"),
    Generator("Zola", ("zola.toml",), "public/"),
    Generator("Pelican", ("pelicanconf.py",), "output/"),
)
# Hugo before 0.110 named its configuration config.toml (or .yaml, .json), a name many
# tools use: with Hugo's own folders beside it, it is Hugo's.
_OLD_HUGO = ("config.toml", "config.yaml", "config.json")
_HUGO_FOLDERS = ("layouts", "archetypes", "content")


# Sphinx's split layout (sphinx-quickstart --sep): conf.py in source/, output in build/html.
SPHINX_SPLIT = Generator("Sphinx", ("source/conf.py",), "build/html/")


def source_of(folder: Path) -> tuple[Generator, str] | None:
    """Return the generator whose source ``folder`` is, and the file that shows it; or None."""
    if (folder / "source" / "conf.py").is_file():
        return SPHINX_SPLIT, "source/conf.py"
    for generator in GENERATORS:
        for pattern in generator.configs:
            found = sorted(folder.glob(pattern))
            if found:
                return generator, found[0].name
    hugo_folders = any((folder / name).is_dir() for name in _HUGO_FOLDERS)
    for name in _OLD_HUGO:
        if hugo_folders and (folder / name).is_file():
            return GENERATORS[0], name
    return None


def source_hint(folder: Path) -> str | None:
    """Return why ``folder`` looks like a generator's source, and what to run xdlink on instead."""
    found = source_of(folder)
    if found is None:
        return None
    generator, file = found
    output = folder / generator.output
    if generator.name == "Sphinx" and file == "conf.py" and _split_source(folder):
        output = folder.parent / SPHINX_SPLIT.output  # conf.py in source/, output beside it
    return (
        f"{folder} looks like the source of a {generator.name} site ({file} is there), not "
        f"its output: run xdlink on the folder the generator writes ({output} by default), "
        f"or pass --built if {folder} really is the built site"
    )


def _split_source(folder: Path) -> bool:
    """Return whether a Sphinx source folder is the source/ of a split layout (a build/ beside it,
    or the Makefile of sphinx-quickstart --sep naming it)."""
    if folder.resolve().name != "source":
        return False
    parent = folder.resolve().parent
    return (
        (parent / "build").is_dir()
        or (parent / "Makefile").is_file()
        or (parent / "make.bat").is_file()
    )
