"""Reconcilers: functions of a work-queue key, run by the worker pool.

Each reads the caches (never the API server), decides with the pure IPAM, and
writes through the injected :class:`~ovnctl.k8s.writer.Writer` (a
:class:`~ovnctl.k8s.api.KubeApi` in the controller, a recording fake in
``tests/reconcilers/``). It returns
``Done`` or ``RequeueAfter``, raises ``PermanentError`` for bad input (not
retried until the object changes) and lets API failures propagate as
retryable, so the queue's backoff and dead-lettering apply uniformly.
"""
