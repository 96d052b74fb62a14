"""gunicorn's master warms the caches before forking (backoffice/warmup.py): every template
of every engine compiles, and nothing touches the database (a connection opened before the
fork would be shared by the workers). No database access is allowed in this test."""

from __future__ import annotations

from django.db import connections
from django.template import engines
from django.template.loader import get_template

from backoffice import warmup


def test_every_template_compiles_and_no_connection_is_opened():
    connections.close_all()  # as in gunicorn's master: none open yet (earlier tests may have left one)
    compiled = warmup.warm()
    names = warmup.template_names(engines["django"])
    assert compiled >= len(names) > 100
    assert "admin/tickets/ticket/workspace.html" in names and "admin/change_list.html" in names
    assert all(connection.connection is None for connection in connections.all())
    get_template("admin/tickets/ticket/workspace.html")  # from the cache now


def test_the_console_forms_renderer_is_warmed_too():
    from django.forms.renderers import get_default_renderer

    environment = get_default_renderer().jinja2.engine.env
    environment.cache.clear()
    warmup.warm()
    assert len(environment.cache) >= len(environment.list_templates(extensions=["html"])) > 20


def test_gunicorns_master_freezes_what_it_built_before_forking():
    """gunicorn.conf.py's ``when_ready``: warmed, then frozen out of the collector's reach."""
    import gc
    import runpy
    from pathlib import Path
    from types import SimpleNamespace

    from django.conf import settings

    config = runpy.run_path(str(Path(settings.BASE_DIR) / "gunicorn.conf.py"))
    logged = []
    server = SimpleNamespace(
        cfg=SimpleNamespace(preload_app=True), log=SimpleNamespace(info=lambda *a: logged.append(a))
    )
    connections.close_all()
    gc.unfreeze()
    threshold = gc.get_threshold()
    try:
        config["when_ready"](server)
        assert gc.get_freeze_count() > 10_000
        assert logged and logged[0][1] > 100  # the templates compiled
        assert all(connection.connection is None for connection in connections.all())
        # The workers, forked after it, collect the youngest objects less often.
        assert gc.get_threshold() == (config["GC_YOUNGEST_THRESHOLD"], *threshold[1:])
    finally:
        gc.unfreeze()
        gc.set_threshold(*threshold)
