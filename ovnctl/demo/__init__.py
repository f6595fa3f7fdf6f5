"""``ovnctl demo``: the main job on the embedded API server, in one command.

A newcomer with no cluster sees ovnctl work: the embedded API server starts
with the CRDs, realistic Subnets, NADs, pods and KubeVirt VMs are created, the
controller allocates, a VM migrates and another is deleted, and the result is
printed: addresses per network, subnet usage, and the API requests the
controller made (note the zero NAD GETs).
"""
