"""Webhooks: the events of ``customer_ops.events`` delivered to the platform's other systems.

* :mod:`api.webhooks.fanout` -- in the emitting transaction, one delivery row and one
  procrastinate job per event and matching subscription;
* :mod:`api.webhooks.delivery` -- one signed HTTP attempt, its record, the retry schedule;
* :mod:`api.webhooks.signing` -- the signature (Stripe's scheme), also used by the tests'
  receiver and shown in the README;
* :mod:`api.webhooks.services` -- subscribe, pause, resume, delete, replay (admin and API);
* ``api/tasks.py`` -- the worker's tasks (procrastinate).
"""
