"""``ovnctl ipam``: the operator's audit (``check``) and repair (``release``) of addresses.

Reads any cluster through a kubeconfig (and the OVN NB with ``--ovn-nb``) into
an :class:`ovnctl.audit.Snapshot` (:mod:`.collect`), checks it with the shared
invariants of :mod:`ovnctl.audit`, and shows the report (:mod:`.render`).
``release`` (:mod:`.release`) deletes a leaked IP object after checking again,
through the API, that its owner is gone. Never imports the controller: it must
work with no controller running, and must not share the controller's bugs.
"""
