"""The service API for the platform's other systems (issue 22), at ``/api/v1/``.

Above the domain apps, like the admin: handlers parse, call a domain service or selector,
and render; nothing imports ``api``. How to add an endpoint: ``api/v1.py``'s docstring.

* :mod:`api.auth` -- bearer tokens, scopes, the rate limit (one SQL statement a call);
* :mod:`api.idempotency` -- ``Idempotency-Key`` on every POST;
* :mod:`api.errors` -- RFC 9457 problem details for every refusal;
* :mod:`api.calls` -- the write-call log and the per-minute usage;
* :mod:`api.middleware` -- the cheap, cookie-free ``/api/`` path and the body cap;
* :mod:`api.services`, :mod:`api.admin`, ``manage.py create_api_client`` -- clients and tokens.
"""
