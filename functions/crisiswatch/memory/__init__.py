"""In-memory adapters of every port (crisiswatch.ports), with the AWS adapters' semantics:
conditional writes, idempotency by business key, version checks, ordering. The contract suite
(tests/contract) runs the same tests against both, so they cannot drift.

Used by the memory runtime (`crisiswatch replay --engine memory`, the detection evaluation) and by
fast tests; never deployed. One process, one thread: no locks.
"""
