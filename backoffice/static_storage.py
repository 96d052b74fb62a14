"""Production's static files storage: whitenoise's compressed manifest storage, with each
file's URL worked out once per process.

A page asks for about twenty static URLs (the admin's stylesheets and scripts), and each
``url()`` looks the name up in the manifest and joins it to ``STATIC_URL``: 11 µs a call,
a fifth of a millisecond per page. The manifest cannot change under a running process
(``collectstatic`` runs before the start, and a deploy starts new processes), so the answer
for a name is kept.
"""

from __future__ import annotations

from whitenoise.storage import CompressedManifestStaticFilesStorage


class StaticFilesStorage(CompressedManifestStaticFilesStorage):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._urls: dict[str, str] = {}

    def url(self, name, force=False):
        if force:  # collectstatic's own lookups: never kept
            return super().url(name, force)
        try:
            return self._urls[name]
        except KeyError:
            # A name missing from the manifest raises here (manifest_strict), and is not kept.
            url = self._urls[name] = super().url(name)
            return url
