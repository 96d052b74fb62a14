"""gunicorn's settings for ``make serve`` (production). Each can be changed from the environment.

Workers and threads: the back-office's requests are admin pages, which spend most of their
time rendering templates in Python (CPU, under the GIL) and the rest waiting for
PostgreSQL. So: one process per CPU core for the rendering (``WEB_CONCURRENCY``, the
variable gunicorn and most platforms already use), and a few threads per process
(``GUNICORN_THREADS``, default 4) that take the next request while one waits for the
database or for a slow client. More processes than cores only add memory (about 120 MB
each) and database connections (workers x threads, each kept for ``conn_max_age`` = 60 s:
size PostgreSQL's ``max_connections`` for it). README "Production" has the measurements.
"""

import os


def _cpus() -> int:
    try:
        return len(os.sched_getaffinity(0))  # the cores this container may use, not the host's
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


wsgi_app = "backoffice.wsgi:application"
# HOST and PORT, as for `make run` (HOST=0.0.0.0 to listen on every interface behind the proxy).
bind = [f"{os.environ.get('HOST') or '127.0.0.1'}:{os.environ.get('PORT') or '8000'}"]
workers = int(os.environ.get("WEB_CONCURRENCY") or max(2, _cpus()))
threads = int(os.environ.get("GUNICORN_THREADS") or 4)
worker_class = "gthread"

# A worker whose main loop is stuck this long is killed and replaced. gthread workers keep
# beating while a request runs, so a long (streamed) export is not cut off by it.
timeout = int(os.environ.get("GUNICORN_TIMEOUT") or 30)
graceful_timeout = 30  # a deploy's SIGTERM lets running requests finish for this long
keepalive = 5  # seconds an idle keep-alive connection from the proxy stays open
# Recycle each worker after about a thousand requests, staggered, so that slow memory growth
# (caches, fragmentation) never accumulates.
max_requests = 1000
max_requests_jitter = 100
# Import the application once in the master: an import or settings error stops the start
# with one message instead of a crash loop of workers; workers share the loaded code's memory.
preload_app = True
worker_tmp_dir = "/dev/shm" if os.path.isdir("/dev/shm") else None  # heartbeats off disk
# No control socket: it is not used, and its default path in $HOME is shared by every
# gunicorn of the user (two instances on one machine would fight over it).
control_socket_disable = True

# Logs to stdout/stderr for the platform's collector. The access log records the path
# WITHOUT the query string (%(U)s, not %(r)s): admin searches put names, emails and phone
# numbers there. %(M)s is the response time in milliseconds.
accesslog = "-"
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOG_LEVEL", "info")
access_log_format = '%(h)s "%(m)s %(U)s %(H)s" %(s)s %(B)s %(M)sms "%(a)s"'


GC_YOUNGEST_THRESHOLD = 20_000  # when_ready says why


def when_ready(server):
    """In the master, after the preloaded application and before the workers are forked:
    compile what each worker would otherwise build on its first requests
    (backoffice/warmup.py; no database connection), then move every object made so far out
    of the garbage collector's reach (``gc.freeze``, as Python's documentation advises before
    a fork). The modules, templates and caches live as long as the worker; without this each
    full collection in a worker walked their 200,000 objects again, about 2 ms of CPU per
    queue page on average (docs/scaling.md).

    The youngest generation is collected every 20,000 net allocations instead of 700: a page
    builds and frees tens of thousands of objects (rows, template nodes), and two collections
    a page of what was still alive cost 0.7 to 0.9 ms of the queue's and the alert queue's
    CPU, 0.25 to 0.4 ms at this threshold. The cost is at most that many objects in cycles
    waiting a little longer to be freed (a few MB)."""
    if server.cfg.preload_app:
        import gc

        from backoffice.warmup import warm

        server.log.info("Warmed up before forking: %d templates compiled", warm())
        gc.collect()
        gc.freeze()
        gc.set_threshold(GC_YOUNGEST_THRESHOLD, *gc.get_threshold()[1:])
