"""The only layer that talks to the Kubernetes API.

Kopf handlers (watch events to work-queue keys), the API writer the
reconcilers are given, Event posting and leader election live here. Nothing
below this layer imports Kopf or the Kubernetes client; the reconcilers above
it receive its writer by injection so they can be driven by tests.
"""
