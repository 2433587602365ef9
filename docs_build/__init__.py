"""Build-time helpers for the docs site (``mkdocs.yml`` loads :mod:`docs_build.hooks`)."""
